import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EchoPrincipal__Output } from '@authmesh/proto';
import { createKeyStore } from '../jwks/key-store.js';
import {
  AUDIENCE,
  FakeFeed,
  ISSUER,
  bearer,
  jwksSource,
  makeKey,
  signToken,
  startHarness,
  unary,
  type Harness,
  type TestKey,
} from './fixtures.test.js';
import { findPrincipal } from './principal.js';
import { bearerToken } from './interceptor.js';

const { UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE, OK } = grpc.status;

let key: TestKey;
let feed: FakeFeed;
let h: Harness;
/** What an interceptor placed AFTER auth saw, per call path. */
const seen: { path: string; principalSub: string | undefined; authmeshHeaders: string[] }[] = [];
const recorder: grpc.ServerInterceptor = (method, call) =>
  new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(md, next) {
          seen.push({
            path: method.path,
            principalSub: findPrincipal({ metadata: md })?.sub,
            authmeshHeaders: Object.keys(md.getMap()).filter((k) => k.startsWith('x-authmesh-')),
          });
          next(md);
        },
      });
    },
  });

beforeAll(async () => {
  key = await makeKey();
  feed = new FakeFeed();
  h = await startHarness(
    {
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { source: jwksSource([key]).source },
      revocations: { feed },
      clockToleranceSec: 0,
      rules: { '/echo.v1.Echo/Relay': { roles: ['relay'] } },
    },
    [recorder],
  );
});
afterAll(async () => h?.stop());

const whoAmI = (md?: grpc.Metadata) => unary<EchoPrincipal__Output>((m, cb) => h.echo.WhoAmI({}, m, cb), md);
const ping = (md?: grpc.Metadata) =>
  unary<{ message: string }>((m, cb) => h.echo.Ping({ message: 'hi' }, m, cb), md);
const admin = (md?: grpc.Metadata) => unary<{ status: string }>((m, cb) => h.echo.Admin({}, m, cb), md);
const lastRejection = () => h.rejected.at(-1)?.code;

describe('createServerAuth over a real grpc-js server', () => {
  it('lets a valid token through and hands the principal to the handler', async () => {
    const r = await whoAmI(bearer(await signToken(key, { sub: 'bob', scope: 'echo:read x' })));
    expect(r.code).toBe(OK);
    expect(r.value).toMatchObject({
      sub: 'bob',
      scopes: ['echo:read', 'x'],
      client_id: 'cli',
      aud: ['echo'],
    });
  });

  it.each([
    ['no token', async () => new grpc.Metadata(), 'ERR_TOKEN_MISSING'],
    [
      'basic scheme',
      async () => {
        const m = new grpc.Metadata();
        m.set('authorization', 'Basic YTpi');
        return m;
      },
      'ERR_TOKEN_MALFORMED',
    ],
    ['garbage', async () => bearer('not.a.jwt'), 'ERR_TOKEN_MALFORMED'],
    ['oversized header', async () => bearer('a'.repeat(20_000)), 'ERR_TOKEN_MALFORMED'],
    ['wrong audience', async () => bearer(await signToken(key, { aud: 'billing' })), 'ERR_TOKEN_AUDIENCE'],
    [
      'wrong issuer',
      async () => bearer(await signToken(key, { iss: 'https://evil.test' })),
      'ERR_TOKEN_ISSUER',
    ],
    [
      'expired',
      async () => bearer(await signToken(key, { exp: Math.floor(Date.now() / 1000) - 1 })),
      'ERR_TOKEN_EXPIRED',
    ],
    ['wrong typ', async () => bearer(await signToken(key, {}, { typ: 'JWT' })), 'ERR_TOKEN_TYP'],
    [
      'forged signature',
      async () => bearer(await signToken({ ...(await makeKey()), kid: key.kid })),
      'ERR_TOKEN_SIGNATURE',
    ],
    [
      'unknown kid',
      async () => bearer(await signToken({ ...(await makeKey()), kid: 'nobody' })),
      'ERR_KEY_UNKNOWN',
    ],
  ])('rejects %s with UNAUTHENTICATED and a short detail', async (_name, md, code) => {
    const metadata = await md();
    const token = String(metadata.get('authorization')[0] ?? '').slice(7);
    const r = await whoAmI(metadata);
    expect(r.code).toBe(UNAUTHENTICATED);
    expect(lastRejection()).toBe(code);
    expect(r.details.length).toBeLessThan(40);
    if (token.length > 8) expect(r.details).not.toContain(token.slice(0, 20));
  });

  it('case-insensitive scheme: "bearer" and "BEARER" work', async () => {
    const t = await signToken(key);
    for (const scheme of ['bearer', 'BEARER']) {
      const m = new grpc.Metadata();
      m.set('authorization', `${scheme} ${t}`);
      expect((await whoAmI(m)).code).toBe(OK);
    }
  });

  it('never lets a call with two authorization values reach the handler', async () => {
    const m = bearer(await signToken(key));
    m.add('authorization', `Bearer ${await signToken(key, { sub: 'mallory' })}`);
    // grpc-js refuses to send it and Node's HTTP/2 server keeps one value only; bearerToken() refuses two (unit test).
    expect((await whoAmI(m)).code).not.toBe(OK);
  });

  it('bearerToken(): exactly one value, Bearer scheme, size cap', () => {
    const m = new grpc.Metadata();
    expect(bearerToken(m, 100)).toBeUndefined();
    m.add('authorization', 'Bearer abc');
    expect(bearerToken(m, 100)).toBe('abc');
    m.add('authorization', 'Bearer def');
    expect(() => bearerToken(m, 100)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
    const big = new grpc.Metadata();
    big.set('authorization', `Bearer ${'a'.repeat(200)}`);
    expect(() => bearerToken(big, 100)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
    const empty = new grpc.Metadata();
    empty.set('authorization', 'Bearer   ');
    expect(() => bearerToken(empty, 100)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
    const bin = new grpc.Metadata();
    bin.set('authorization', 'Token abc');
    expect(() => bearerToken(bin, 100)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
  });

  it('enforces the scope rule from the proto: PERMISSION_DENIED without echo:admin, OK with it', async () => {
    expect((await admin(bearer(await signToken(key, { scope: 'echo:read' })))).code).toBe(PERMISSION_DENIED);
    expect(lastRejection()).toBe('ERR_SCOPE_MISSING');
    expect((await admin(bearer(await signToken(key, { scope: 'echo:read echo:admin' })))).code).toBe(OK);
  });

  it('enforces a code-level role override', async () => {
    const relay = (md: grpc.Metadata) =>
      unary<EchoPrincipal__Output>((m, cb) => h.echo.Relay({ target: '', audience: '' }, m, cb), md);
    expect((await relay(bearer(await signToken(key, { roles: ['user'] })))).code).toBe(PERMISSION_DENIED);
    expect(lastRejection()).toBe('ERR_ROLE_MISSING');
    expect((await relay(bearer(await signToken(key, { roles: ['relay'] })))).code).toBe(OK);
  });

  it('public method: passes without a token, sees the principal with one, rejects an invalid one', async () => {
    expect(await ping()).toMatchObject({ code: OK, value: { message: 'anonymous' } });
    expect(await ping(bearer(await signToken(key, { sub: 'carol' })))).toMatchObject({
      code: OK,
      value: { message: 'carol' },
    });
    expect((await ping(bearer(await signToken(key, { aud: 'billing' })))).code).toBe(UNAUTHENTICATED);
  });

  it('denies by default: methods without a rule, and methods of services not in the definition', async () => {
    expect((await whoAmI()).code).toBe(UNAUTHENTICATED);
    const r = await new Promise<number>((resolve) => {
      const call = h.streams.makeClientStreamRequest(
        '/test.v1.Streams/Upload',
        (v: unknown) => Buffer.from(JSON.stringify(v)),
        (b: Buffer) => JSON.parse(b.toString()) as unknown,
        new grpc.Metadata(),
        (err) => resolve(err?.code ?? OK),
      );
      call.end();
    });
    expect(r).toBe(UNAUTHENTICATED);
  });

  it('a principal cannot be spoofed with client metadata; x-authmesh-* headers are stripped', async () => {
    const r = await whoAmI(
      bearer(await signToken(key, { sub: 'dave' }), {
        'x-authmesh-sub': 'root',
        'x-authmesh-principal': '{"sub":"root"}',
      }),
    );
    expect(r.code).toBe(OK);
    expect(r.value?.sub).toBe('dave');
    expect(r.value?.act).toEqual([]); // the handler saw no x-authmesh-sub
    // and without a token the spoofed header gets nowhere
    const spoofOnly = new grpc.Metadata();
    spoofOnly.set('x-authmesh-sub', 'root');
    expect((await whoAmI(spoofOnly)).code).toBe(UNAUTHENTICATED);
  });

  it('a principal cannot be spoofed with headers named like its internal slot on a public method', async () => {
    const md = new grpc.Metadata();
    for (const name of ['authmesh.principal', 'principal', '__proto__', 'internalrepr'])
      md.set(name, '{"sub":"root"}');
    expect(await ping(md)).toMatchObject({ code: OK, value: { message: 'anonymous' } });
    // Metadata built from raw HTTP/2 headers, as grpc-js builds it for each call.
    const raw = grpc.Metadata.fromHttp2Headers({
      'Symbol(authmesh.principal)': '{"sub":"root"}',
      'authmesh.principal': '{"sub":"root"}',
    });
    expect(findPrincipal({ metadata: raw })).toBeUndefined();
  });

  it('runs before later interceptors (pinned order): they see only accepted calls, the principal, no x-authmesh-*', async () => {
    seen.length = 0;
    await whoAmI(new grpc.Metadata());
    expect(seen).toEqual([]);
    await whoAmI(bearer(await signToken(key, { sub: 'erin' }), { 'x-authmesh-sub': 'root' }));
    expect(seen).toEqual([{ path: '/echo.v1.Echo/WhoAmI', principalSub: 'erin', authmeshHeaders: [] }]);
  });

  it('UNAVAILABLE while revocations are not ready or stale (policy reject); stale passes with policy allow', async () => {
    const t = await signToken(key);
    try {
      feed.readyNow = false;
      expect((await whoAmI(bearer(t))).code).toBe(UNAVAILABLE);
      expect(lastRejection()).toBe('ERR_NOT_READY');
      feed.readyNow = true;
      feed.stale = true;
      expect((await whoAmI(bearer(t))).code).toBe(UNAVAILABLE);
      expect(lastRejection()).toBe('ERR_REVOCATIONS_STALE');
      expect((await ping()).code).toBe(OK); // a public call without token needs neither
      feed.stalePolicy = 'allow';
      expect((await whoAmI(bearer(t))).code).toBe(OK);
    } finally {
      feed.readyNow = true;
      feed.stale = false;
      feed.stalePolicy = 'reject';
    }
  });

  it('a revocation takes effect on the very next call of a cached token (jti, sub, all)', async () => {
    for (const kind of ['jti', 'sub', 'all'] as const) {
      const sub = `rev-${kind}`;
      const t = await signToken(key, { sub, iat: Math.floor(Date.now() / 1000) - 1 });
      expect((await whoAmI(bearer(t))).code).toBe(OK); // now cached
      expect((await whoAmI(bearer(t))).code).toBe(OK);
      const jti = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti as string;
      feed.revoke(kind, kind === 'jti' ? jti : kind === 'sub' ? sub : '');
      expect((await whoAmI(bearer(t))).code).toBe(UNAUTHENTICATED);
      expect(lastRejection()).toBe('ERR_TOKEN_REVOKED');
      if (kind === 'all') (feed.entries.pop(), feed.epoch++); // undo "all" for the tests after this one
    }
  });

  it('verify() does the same checks outside a call; anyAudience skips only the audience', async () => {
    const t = await signToken(key, { aud: 'billing' });
    await expect(h.auth.verify(t)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' });
    await expect(h.auth.verify(t, { anyAudience: true })).resolves.toMatchObject({ sub: 'alice' });
    await expect(
      h.auth.verify(await signToken(key, { iss: 'x' }), { anyAudience: true }),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_ISSUER' });
    expect(h.auth.isReady()).toBe(true);
  });

  it('covers client streams and bidi streams', async () => {
    const t = await signToken(key, { sub: 'streamer' });
    const ser = (v: unknown) => Buffer.from(JSON.stringify(v));
    const de = (b: Buffer) => JSON.parse(b.toString()) as unknown;
    const upload = await new Promise<{ n: number; sub: string }>((resolve, reject) => {
      const call = h.streams.makeClientStreamRequest(
        '/test.v1.Streams/Upload',
        ser,
        de,
        bearer(t),
        (err, v) => (err ? reject(err) : resolve(v as { n: number; sub: string })),
      );
      call.write({ a: 1 });
      call.write({ a: 2 });
      call.end();
    });
    expect(upload).toEqual({ n: 2, sub: 'streamer' });
    const replies = await new Promise<unknown[]>((resolve, reject) => {
      const out: unknown[] = [];
      const call = h.streams.makeBidiStreamRequest('/test.v1.Streams/Chat', ser, de, bearer(t));
      call.on('data', (m) => out.push(m));
      call.on('error', reject);
      call.on('end', () => resolve(out));
      call.write('x');
      call.write('y');
      call.end();
    });
    expect(replies).toEqual([
      { echo: 'x', sub: 'streamer' },
      { echo: 'y', sub: 'streamer' },
    ]);
    const denied = await new Promise<number>((resolve) => {
      const call = h.streams.makeBidiStreamRequest('/test.v1.Streams/Chat', ser, de, new grpc.Metadata());
      call.on('data', () => undefined);
      call.on('error', (e: grpc.ServiceError) => resolve(e.code));
      call.on('end', () => resolve(OK));
      call.write('x');
    });
    expect(denied).toBe(UNAUTHENTICATED);
  });
});

/** Reads a server stream until it ends; resolves with the messages and the final status code. */
function readStream(
  call: grpc.ClientReadableStream<unknown>,
): Promise<{ n: number; code: number; details: string }> {
  return new Promise((resolve) => {
    let n = 0;
    call.on('data', () => n++);
    call.on('error', (e: grpc.ServiceError) => resolve({ n, code: e.code, details: e.details }));
    call.on('end', () => resolve({ n, code: OK, details: '' }));
  });
}

describe('open streams', () => {
  it('a streaming call whose token expires is ended with UNAUTHENTICATED', async () => {
    const exp = Math.floor(Date.now() / 1000) + 1;
    const t0 = Date.now();
    const r = await readStream(
      h.echo.StreamWhoAmI({ count: 100, interval_ms: 50 }, bearer(await signToken(key, { exp }))),
    );
    expect(r.code).toBe(UNAUTHENTICATED);
    expect(r.details).toBe('token expired');
    expect(r.n).toBeGreaterThan(0);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('a stream whose token is revoked ends at once; other streams go on', async () => {
    const victim = await signToken(key, { sub: 'victim' });
    const bystander = await signToken(key, { sub: 'bystander' });
    const a = readStream(h.echo.StreamWhoAmI({ count: 3, interval_ms: 300 }, bearer(victim)));
    const b = readStream(h.echo.StreamWhoAmI({ count: 3, interval_ms: 300 }, bearer(bystander)));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    feed.revoke('sub', 'victim');
    const ra = await a;
    expect(ra.code).toBe(UNAUTHENTICATED);
    expect(ra.details).toBe('token revoked');
    expect(Date.now() - t0).toBeLessThan(250);
    expect(await b).toEqual({ n: 3, code: OK, details: '' });
  });

  it('a normal stream end clears its timer and leaves no open stream behind', async () => {
    const r = await readStream(
      h.echo.StreamWhoAmI({ count: 2, interval_ms: 0 }, bearer(await signToken(key))),
    );
    expect(r).toEqual({ n: 2, code: OK, details: '' });
  });
});

describe('key removal through a shared KeyStore', () => {
  it('a removed key fails cached tokens on the next call and ends open streams', async () => {
    const k = await makeKey();
    const keyStore = createKeyStore(jwksSource([k]).source);
    const f = new FakeFeed();
    const hk = await startHarness({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keyStore },
      revocations: { feed: f },
    });
    try {
      const t = await signToken(k);
      expect((await unary((m, cb) => hk.echo.WhoAmI({}, m, cb), bearer(t))).code).toBe(OK);
      const open = readStream(hk.echo.StreamWhoAmI({ count: 3, interval_ms: 500 }, bearer(t)));
      await new Promise((r) => setTimeout(r, 100));
      keyStore.remove(k.kid);
      expect((await unary((m, cb) => hk.echo.WhoAmI({}, m, cb), bearer(t))).code).toBe(UNAUTHENTICATED);
      expect(hk.rejected.at(-1)?.code).toBe('ERR_KEY_UNKNOWN');
      f.revoke('kid', k.kid); // the feed announces it; open streams are re-checked
      expect(await open).toMatchObject({ code: UNAUTHENTICATED });
    } finally {
      await hk.stop();
      keyStore.close();
    }
  });
});
