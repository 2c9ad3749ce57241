// Test helpers for the server-side suites (a .test.ts file so it stays out of dist; it checks itself below).
import * as grpc from '@grpc/grpc-js';
import { echoGrpc, echoPackageDefinition, type EchoClient, type EchoHandlers } from '@authmesh/proto';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { KeyObject, randomUUID, sign } from 'node:crypto';
import type {
  RevocationEventClaims,
  RevocationFeed,
  RevocationKind,
  RevocationSubject,
} from '../revocation/revocation.types.js';
import type { ServerAuth } from './server-auth.types.js';
import { createServerAuth } from './server-auth.js';
import type { ServerAuthOptions } from './options.js';
import { findPrincipal, getPrincipal } from './principal.js';
import { toLowS } from '../verify/low-s.js';
import { describe, expect, it } from 'vitest';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'echo';

/** A signing key with its public JWK. */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
}

export async function makeKey(alg = 'EdDSA', kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Signs an access token; claims and header can be overridden (undefined deletes a default). */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'alice',
    aud: AUDIENCE,
    exp: now + 300,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    client_id: 'cli',
    scope: 'echo:read',
    roles: ['user'],
    sid: 'sess-1',
    ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const h: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const token = await new SignJWT(payload).setProtectedHeader(h as { alg: string }).sign(key.privateKey);
  if (key.alg !== 'ES256') return token;
  // As the auth service signs: ES256 in its low-S form (verifiers refuse the high-S twin).
  const dot = token.lastIndexOf('.');
  return `${token.slice(0, dot + 1)}${Buffer.from(toLowS(Buffer.from(token.slice(dot + 1), 'base64url'))).toString('base64url')}`;
}

/** Signs any header and payload with an EdDSA key, bypassing jose's own checks (for hostile tokens). */
export function signRaw(
  key: TestKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), KeyObject.from(key.privateKey)).toString('base64url')}`;
}

/** An in-memory RevocationFeed with the documented semantics, driven by the test. */
export class FakeFeed implements RevocationFeed {
  epoch = 0;
  stale = false;
  readyNow = true;
  stalePolicy: 'reject' | 'allow' = 'reject';
  readonly entries: RevocationEventClaims[] = [];
  readonly #listeners = new Set<(e: RevocationEventClaims) => void>();
  isRevoked(t: RevocationSubject): boolean {
    return this.entries.some(
      (e) =>
        (e.kind === 'jti' && e.value === t.jti) ||
        (e.kind === 'sid' && e.value === t.sid) ||
        (e.kind === 'kid' && e.value === t.kid) ||
        (e.kind === 'sub' && e.value === t.sub && t.iat <= e.at) ||
        (e.kind === 'all' && t.iat <= e.at),
    );
  }
  revoke(kind: RevocationKind, value: string, at = Math.floor(Date.now() / 1000)): void {
    const e: RevocationEventClaims = { v: 1, kind, value, at, exp: at + 600, reason: 'test' };
    this.entries.push(e);
    this.epoch++;
    for (const l of this.#listeners) l(e);
  }
  ready = async (): Promise<void> => {};
  isReady = (): boolean => this.readyNow;
  isStale = (): boolean => this.stale;
  onRevoked(listener: (e: RevocationEventClaims) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  async close(): Promise<void> {}
}

/** A mutable JWKS behind a function source that counts its calls. */
export function jwksSource(keys: TestKey[]): {
  source: () => Promise<JSONWebKeySet>;
  keys: TestKey[];
  calls: number;
  fail: boolean;
} {
  const state = {
    keys,
    calls: 0,
    fail: false,
    source: async (): Promise<JSONWebKeySet> => {
      state.calls++;
      if (state.fail) throw new Error('JWKS source down');
      return { keys: state.keys.map((k) => k.jwk) };
    },
  };
  return state;
}

/** Echo handlers that report what getPrincipal/findPrincipal and the metadata said. */
export const echoHandlers: EchoHandlers = {
  Ping(call, cb) {
    cb(null, { message: findPrincipal(call)?.sub ?? 'anonymous' });
  },
  WhoAmI(call, cb) {
    const p = getPrincipal(call);
    const spoof = call.metadata.get('x-authmesh-sub');
    cb(null, {
      sub: p.sub,
      scopes: [...p.scopes],
      roles: [...p.roles],
      jti: p.jti,
      sid: p.sid ?? '',
      client_id: p.clientId,
      aud: [...p.aud],
      act: spoof.length > 0 ? [{ sub: `spoofed:${String(spoof[0])}` }] : [],
    });
  },
  Admin(_call, cb) {
    cb(null, { status: 'ok' });
  },
  Relay(call, cb) {
    cb(null, { sub: getPrincipal(call).sub });
  },
  StreamWhoAmI(call) {
    const { count, interval_ms } = call.request;
    let sent = 0;
    const send = (): void => {
      if (call.cancelled) return;
      call.write({ sub: getPrincipal(call).sub });
      if (++sent >= count) call.end();
      else setTimeout(send, interval_ms);
    };
    send();
  },
};

/** A JSON-coded service with client-streaming and bidi methods (echo.v1 has neither). */
const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
export const streamService: grpc.ServiceDefinition = {
  Upload: {
    path: '/test.v1.Streams/Upload',
    requestStream: true,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  Chat: {
    path: '/test.v1.Streams/Chat',
    requestStream: true,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const streamHandlers: grpc.UntypedServiceImplementation = {
  Upload(call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) {
    let n = 0;
    call.on('data', () => n++);
    call.on('end', () => cb(null, { n, sub: getPrincipal(call).sub }));
  },
  Chat(call: grpc.ServerDuplexStream<unknown, unknown>) {
    call.on('data', (m: unknown) => call.write({ echo: m, sub: getPrincipal(call).sub }));
    call.on('end', () => call.end());
  },
};

export interface Harness {
  auth: ServerAuth;
  echo: EchoClient;
  streams: grpc.Client;
  target: string;
  rejected: { code: string; path: string }[];
  stop(): Promise<void>;
}

/** A real grpc-js server on 127.0.0.1:0 with `auth` first and optional interceptors after it. */
export async function startHarness(
  options: ServerAuthOptions,
  after: grpc.ServerInterceptor[] = [],
): Promise<Harness> {
  const rejected: { code: string; path: string }[] = [];
  const auth = createServerAuth({
    packageDefinition: echoPackageDefinition(),
    onRejected: (r) => rejected.push(r),
    ...options,
  });
  const server = new grpc.Server({ interceptors: [auth.interceptor, ...after] });
  server.addService(echoGrpc().echo.v1.Echo.service, echoHandlers);
  server.addService(streamService, streamHandlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const target = `127.0.0.1:${port}`;
  const echo = new (echoGrpc().echo.v1.Echo)(target, grpc.credentials.createInsecure());
  const Streams = grpc.makeGenericClientConstructor(streamService, 'Streams');
  const streams = new Streams(target, grpc.credentials.createInsecure());
  await auth.ready();
  return {
    auth,
    echo,
    streams,
    target,
    rejected,
    async stop() {
      echo.close();
      streams.close();
      await auth.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** Metadata with `authorization: Bearer <token>` (and any extra pairs). */
export function bearer(token: string, extra: Record<string, string> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) md.set(k, v);
  return md;
}

/** A unary call as a promise of `{ code, details, value }` (code 0 on success). */
export function unary<T>(
  fn: (md: grpc.Metadata, cb: (err: grpc.ServiceError | null, value?: T) => void) => unknown,
  md: grpc.Metadata = new grpc.Metadata(),
): Promise<{ code: number; details: string; value: T | undefined }> {
  return new Promise((resolve) =>
    fn(md, (err, value) =>
      resolve(
        err ? { code: err.code, details: err.details, value: undefined } : { code: 0, details: '', value },
      ),
    ),
  );
}

describe('server test fixtures', () => {
  it('signs a token whose header and claims can be overridden', async () => {
    const key = await makeKey();
    const token = await signToken(key, { scope: undefined }, { typ: 'JWT' });
    const [h, p] = token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
    expect(h).toMatchObject({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
    expect(p).not.toHaveProperty('scope');
  });
});
