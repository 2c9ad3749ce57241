import * as grpc from '@grpc/grpc-js';
import { echoGrpc, type EchoClient, type EchoHandlers } from '@authmesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authInterceptor, callCredentials } from './client-interceptor.js';
import { TokenSourceError } from './errors.js';
import { staticTokenSource, type TokenSource } from './token-source.js';

// A bare echo server (no auth) that reports the authorization header it received as `sub`,
// and answers UNAUTHENTICATED to Admin.
let server: grpc.Server;
let target: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = new grpc.Server();
  const auth = (call: { metadata: grpc.Metadata }) => {
    const v = call.metadata.get('authorization')[0];
    seen.push(typeof v === 'string' ? v : undefined);
    return typeof v === 'string' ? v : '';
  };
  const handlers: Partial<EchoHandlers> = {
    WhoAmI: (call, cb) => cb(null, { sub: auth(call) }),
    Admin: (call, cb) => (auth(call), cb({ code: grpc.status.UNAUTHENTICATED, details: 'revoked' })),
    StreamWhoAmI: (call) => {
      call.write({ sub: auth(call) });
      call.end();
    },
  };
  server.addService(echoGrpc().echo.v1.Echo.service, handlers as EchoHandlers);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  target = `127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.tryShutdown(() => r())));

const client = (source: TokenSource): EchoClient =>
  new (echoGrpc().echo.v1.Echo)(target, grpc.credentials.createInsecure(), {
    interceptors: [authInterceptor(source)],
  });
const whoAmI = (c: EchoClient) =>
  new Promise<{ sub: string }>((res, rej) => c.WhoAmI({}, (e, r) => (e ? rej(e) : res(r!))));

describe('authInterceptor', () => {
  it('attaches authorization: Bearer <token> to unary and streaming calls', async () => {
    const c = client(staticTokenSource('tok-123'));
    try {
      expect((await whoAmI(c)).sub).toBe('Bearer tok-123');
      const subs: string[] = [];
      await new Promise<void>((res, rej) => {
        const s = c.StreamWhoAmI({ count: 1 });
        s.on('data', (p: { sub: string }) => subs.push(p.sub));
        s.on('error', rej);
        s.on('end', res);
      });
      expect(subs).toEqual(['Bearer tok-123']);
    } finally {
      c.close();
    }
  });

  it('waits for a slow source and still sends the request message', async () => {
    const slow: TokenSource = { getToken: () => new Promise((r) => setTimeout(() => r('late'), 50)) };
    const c = client(slow);
    try {
      expect((await whoAmI(c)).sub).toBe('Bearer late');
    } finally {
      c.close();
    }
  });

  it('turns source failures into a status, never a throw, and does not reach the server', async () => {
    const before = seen.length;
    const down: TokenSource = {
      getToken: () =>
        Promise.reject(
          new TokenSourceError('ERR_TOKEN_SOURCE_UNAVAILABLE', 'authmesh: login failed (UNAVAILABLE)', 14),
        ),
    };
    const refused: TokenSource = {
      getToken: () =>
        Promise.reject(new TokenSourceError('ERR_TOKEN_SOURCE_REJECTED', 'authmesh: login was refused', 16)),
    };
    const odd: TokenSource = { getToken: () => Promise.reject(new Error('secret-ish internal detail')) };
    for (const [source, code] of [
      [down, 14],
      [refused, 16],
      [odd, 14],
    ] as const) {
      const c = client(source);
      try {
        const err = (await whoAmI(c).catch((e: unknown) => e)) as grpc.ServiceError;
        expect(err.code).toBe(code);
        expect(err.details).not.toContain('secret-ish');
      } finally {
        c.close();
      }
    }
    expect(seen.length).toBe(before);
  });

  it('invalidates the token the server answered UNAUTHENTICATED to', async () => {
    const invalidated: (string | undefined)[] = [];
    const source: TokenSource = { getToken: async () => 'bad', invalidate: (t) => invalidated.push(t) };
    const c = client(source);
    try {
      const err = (await new Promise<grpc.ServiceError | null>((res) =>
        c.Admin({}, (e) => res(e)),
      )) as grpc.ServiceError;
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(invalidated).toEqual(['bad']);
    } finally {
      c.close();
    }
  });

  it('ends a call cancelled while its token is pending with CANCELLED', async () => {
    const never: TokenSource = { getToken: () => new Promise(() => {}) };
    const c = client(never);
    try {
      const p = new Promise<grpc.ServiceError>((res) => {
        const call = c.WhoAmI({}, (e) => res(e!));
        setTimeout(() => call.cancel(), 20);
      });
      expect((await p).code).toBe(grpc.status.CANCELLED);
    } finally {
      c.close();
    }
  });
});

describe('callCredentials', () => {
  it('attaches the bearer token as per-call credentials, and maps source failures to a status', async () => {
    const c = new (echoGrpc().echo.v1.Echo)(target, grpc.credentials.createInsecure());
    try {
      const ok = await new Promise<{ sub: string }>((res, rej) =>
        c.WhoAmI({}, { credentials: callCredentials(staticTokenSource('cc-tok')) }, (e, r) =>
          e ? rej(e) : res(r!),
        ),
      );
      expect(ok.sub).toBe('Bearer cc-tok');
      const refused: TokenSource = {
        getToken: () =>
          Promise.reject(
            new TokenSourceError('ERR_TOKEN_SOURCE_REJECTED', 'authmesh: login was refused', 16),
          ),
      };
      const err = await new Promise<grpc.ServiceError>((res) =>
        c.WhoAmI({}, { credentials: callCredentials(refused) }, (e) => res(e!)),
      );
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      c.close();
    }
  });
});
