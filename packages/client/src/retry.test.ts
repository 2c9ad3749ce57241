import * as grpc from '@grpc/grpc-js';
import { echoGrpc, type EchoClient, type EchoHandlers } from '@authmesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authInterceptor, type AuthInterceptorOptions } from './client-interceptor.js';
import type { TokenSource } from './token-source.js';

// A server that refuses tokens the way the authmesh server interceptor does (fixed details), and a
// token source that hands out tok-1, tok-2… moving on when a token is invalidated.
let server: grpc.Server;
let target: string;
let refuse: (token: string) => string | undefined = () => undefined;
const seen: string[] = [];

beforeAll(async () => {
  server = new grpc.Server();
  const handlers: Partial<EchoHandlers> = {
    WhoAmI: (call, cb) => {
      const token = String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, '');
      seen.push(token);
      const details = refuse(token);
      if (details) cb({ code: grpc.status.UNAUTHENTICATED, details });
      else cb(null, { sub: token });
    },
  };
  server.addService(echoGrpc().echo.v1.Echo.service, handlers as EchoHandlers);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  target = `127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.tryShutdown(() => r())));

function rotatingSource(): TokenSource {
  let n = 1;
  return {
    getToken: async () => `tok-${n}`,
    invalidate: (token) => {
      if (token === `tok-${n}`) n++;
    },
  };
}

async function whoAmI(options: AuthInterceptorOptions, refuseWith: (token: string) => string | undefined) {
  refuse = refuseWith;
  seen.length = 0;
  const c: EchoClient = new (echoGrpc().echo.v1.Echo)(target, grpc.credentials.createInsecure(), {
    interceptors: [authInterceptor(rotatingSource(), options)],
  });
  try {
    return await new Promise<{ code: number; details?: string; sub?: string }>((resolve) =>
      c.WhoAmI({}, (e, r) => resolve(e ? { code: e.code, details: e.details } : { code: 0, sub: r!.sub })),
    );
  } finally {
    c.close();
  }
}

const WHOAMI = '/echo.v1.Echo/WhoAmI';
const revokedFirst = (t: string) => (t === 'tok-1' ? 'token revoked' : undefined);

describe('authInterceptor: one retry with a fresh token after a revocation', () => {
  it('retries a listed method once with a fresh token: the caller sees OK', async () => {
    expect(await whoAmI({ retryable: [WHOAMI] }, revokedFirst)).toEqual({ code: 0, sub: 'tok-2' });
    expect(seen).toEqual(['tok-1', 'tok-2']);
    // a withdrawn signing key too
    expect(
      await whoAmI({ retryable: [WHOAMI] }, (t) => (t === 'tok-1' ? 'unknown signing key' : undefined)),
    ).toEqual({ code: 0, sub: 'tok-2' });
  });

  it('never retries a method that is not known to be safe to repeat, unless opted in', async () => {
    expect(await whoAmI({}, revokedFirst)).toEqual({ code: 16, details: 'token revoked' });
    expect(seen).toEqual(['tok-1']);
    expect(await whoAmI({ retryable: ['/echo.v1.Echo/Admin'] }, revokedFirst)).toMatchObject({ code: 16 });
    expect(seen).toEqual(['tok-1']);
    expect(await whoAmI({ retryNonIdempotent: true }, revokedFirst)).toEqual({ code: 0, sub: 'tok-2' });
  });

  it('never for other refusals, and never more than once; the details say why', async () => {
    expect(await whoAmI({ retryable: [WHOAMI] }, () => 'token expired')).toEqual({
      code: 16,
      details: 'token expired',
    });
    expect(seen).toEqual(['tok-1']);
    expect(await whoAmI({ retryable: [WHOAMI] }, () => 'token revoked')).toEqual({
      code: 16,
      details: 'token revoked',
    });
    expect(seen).toEqual(['tok-1', 'tok-2']);
  });

  it('reads idempotency levels from a package definition', async () => {
    const def = {
      'echo.v1.Echo': { WhoAmI: { path: WHOAMI, options: { idempotency_level: 'NO_SIDE_EFFECTS' } } },
    } as never;
    expect(await whoAmI({ retryable: def }, revokedFirst)).toEqual({ code: 0, sub: 'tok-2' });
    const unsafe = {
      'echo.v1.Echo': { WhoAmI: { path: WHOAMI, options: { idempotency_level: 'IDEMPOTENCY_UNKNOWN' } } },
    } as never;
    expect(await whoAmI({ retryable: unsafe }, revokedFirst)).toMatchObject({ code: 16 });
  });

  it('rejects malformed options at construction', () => {
    expect(() => authInterceptor(rotatingSource(), { retryable: ['WhoAmI'] })).toThrow(/options.retryable/);
  });
});
