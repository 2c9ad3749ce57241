import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServiceClient, type TokenResponse__Output } from '@authmesh/proto';
import { NatsServer, type ServiceProcess } from '@authmesh/testing';
import { clientSecretOf, runCli, startAuthService, testAuthEnv, unary } from './support/mesh.js';

// The auth service as a user runs it: its own process (from dist: build first), provisioned with the CLI.
const ISSUER = 'http://auth.grants.test';

let nats: NatsServer;
let auth: ServiceProcess;
let client: AuthServiceClient;
let env: Record<string, string>;
const secrets: Record<string, string> = {};

// 60 s per CLI run: provisioning starts seven of them at once, slow on a loaded machine.
const cli = (args: string[], stdin = '') => runCli(env, args, stdin, 60_000);

async function startAuth(): Promise<void> {
  const started = await startAuthService(env);
  client?.close();
  ({ proc: auth, client } = started);
}

/** A unary AuthService call (no deadline); rejects with the grpc.ServiceError. */
const call = <Res>(method: keyof AuthServiceClient, req: object, token?: string) =>
  unary<Res>(client, method, req, token);

const issue = (req: Parameters<AuthServiceClient['IssueToken']>[0]) =>
  call<TokenResponse__Output>('IssueToken', req);
const refresh = (refresh_token: string, scope: string[] = []) =>
  call<TokenResponse__Output>('Refresh', { refresh_token, scope });
const login = (username: string, password: string, extra: { audience?: string[]; scope?: string[] } = {}) =>
  issue({ password: { username, password }, ...extra });
const clientToken = (client_id: string, extra: { audience?: string[]; scope?: string[] } = {}) =>
  issue({ client_credentials: { client_id, client_secret: secrets[client_id]! }, ...extra });

/** The gRPC status code a promise rejects with (fails the test when it resolves). */
async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to fail');
}

async function verify(token: string): Promise<JWTPayload> {
  const jwks = await call<{ keys_json: string }>('GetJwks', {});
  const { payload } = await jwtVerify(token, createLocalJWKSet(JSON.parse(jwks.keys_json)), {
    issuer: ISSUER,
    typ: 'at+jwt',
  });
  return payload;
}

beforeAll(async () => {
  nats = await NatsServer.start();
  env = testAuthEnv(nats.url, ISSUER);
  const users: Array<[string, string[]]> = [
    ['alice', ['--roles', 'reader,writer', '--scopes', 'a,b,c', '--audiences', 'echo,svc2,svc3']],
    ['bob', ['--roles', 'reader', '--scopes', 'a']],
    ['throttled', ['--scopes', 'a']],
  ];
  const clients: Array<[string, string[]]> = [
    // svc1 receives tokens for echo and calls svc2; svc2 receives tokens for svc2 and calls svc3.
    ['svc1', ['--scopes', 'authmesh:exchange,x', '--audiences', 'svc2', '--serves', 'echo']],
    ['svc2', ['--scopes', 'authmesh:exchange', '--audiences', 'svc3', '--serves', 'svc2']],
    ['admin', ['--scopes', 'authmesh:admin']],
    ['plain', ['--scopes', 'x,y', '--audiences', 'echo']],
  ];
  // Provisioned in parallel: each CLI run is its own node process.
  const added = await Promise.all([
    ...users.map(([name, args]) => cli(['user', 'add', name, ...args], `pw-${name}\n`)),
    ...clients.map(([id, args]) => cli(['client', 'add', id, ...args])),
  ]);
  for (const [i, r] of added.entries()) {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/pw-\w+/);
    if (i < users.length) continue;
    const secret = clientSecretOf(r.stdout);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secrets[clients[i - users.length]![0]] = secret;
  }
  await startAuth();
}, 120_000);

afterAll(async () => {
  client?.close();
  await auth?.stop();
  await nats?.stop();
});

describe('IssueToken', () => {
  it('password grant: an access token with a session and a refresh token', async () => {
    const res = await login('alice', 'pw-alice');
    expect(res.token_type).toBe('Bearer');
    expect(res.refresh_token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(res.refresh_expires_in).toBeGreaterThan(0);
    expect(res.scope.split(' ').sort()).toEqual(['a', 'b', 'c']);
    const claims = await verify(res.access_token);
    expect(claims).toMatchObject({ sub: 'alice', aud: 'authmesh', roles: ['reader', 'writer'] });
    expect(typeof claims.sid).toBe('string');
    expect(res.expires_in).toBe(claims.exp! - claims.iat!);
    // Every character rides on every call (README "Access tokens"): no nbf, a 16-character sid (96
    // bits), a 22-character jti (128 bits), an 8-character kid. 458 characters for this issuer and user.
    expect(Object.keys(claims)).toEqual([
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'jti',
      'client_id',
      'scope',
      'roles',
      'sid',
    ]);
    expect(claims.sid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(decodeProtectedHeader(res.access_token).kid).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(res.access_token.length).toBeLessThanOrEqual(458);
  });

  it('client_credentials: no refresh token; requested scope narrowed to the allowed one', async () => {
    const res = await clientToken('plain', { scope: ['x', 'not-mine'], audience: ['echo'] });
    expect(res.refresh_token).toBe('');
    expect(res.scope).toBe('x');
    const claims = await verify(res.access_token);
    expect(claims).toMatchObject({ sub: 'plain', client_id: 'plain', aud: 'echo', scope: 'x' });
    expect(claims.sid).toBeUndefined();
  });

  it('a client provisioned with --secret-stdin authenticates with that secret', async () => {
    const secret = randomBytes(32).toString('base64url');
    const r = await cli(['client', 'add', 'scripted', '--scopes', 'x', '--secret-stdin'], `${secret}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(secret);
    secrets.scripted = secret;
    // The new client reaches the service's cache through a KV watch, or a KV read on a miss.
    const res = await clientToken('scripted');
    expect(res.scope).toBe('x');
  });

  it('an audience beyond the allowed ones is PERMISSION_DENIED', async () => {
    expect((await statusOf(login('bob', 'pw-bob', { audience: ['echo'] }))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect((await statusOf(clientToken('plain', { audience: ['echo', 'billing'] }))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it('malformed requests are INVALID_ARGUMENT with a short message that echoes nothing', async () => {
    const big = 'p'.repeat(2048);
    const cases = [
      issue({}),
      issue({ password: { username: '', password: 'x' } }),
      issue({ password: { username: 'bob', password: '' } }),
      issue({ password: { username: 'bob', password: big } }),
      issue({ client_credentials: { client_id: 'plain', client_secret: '' } }),
      issue({ password: { username: 'bob', password: 'pw-bob' }, scope: ['has space'] }),
      refresh(''),
    ];
    for (const c of cases) {
      const s = await statusOf(c);
      expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(s.details.length).toBeLessThan(60);
      expect(s.details).not.toContain('ppp');
    }
  });

  it('a wrong password and an unknown user fail alike', async () => {
    const wrong = await statusOf(login('bob', 'not-the-password'));
    const unknown = await statusOf(login('nobody-here', 'whatever'));
    expect(wrong).toEqual({ code: grpc.status.UNAUTHENTICATED, details: 'invalid credentials' });
    expect(unknown).toEqual(wrong);
    const badSecret = await statusOf(
      issue({ client_credentials: { client_id: 'plain', client_secret: 'nope' } }),
    );
    const noClient = await statusOf(
      issue({ client_credentials: { client_id: 'ghost', client_secret: 'nope' } }),
    );
    expect(badSecret).toEqual(wrong);
    expect(noClient).toEqual(wrong);
  });

  it('throttles a username after 5 failures with RESOURCE_EXHAUSTED, even for the right password', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await statusOf(login('throttled', `guess-${i}`))).code).toBe(grpc.status.UNAUTHENTICATED);
    }
    const s = await statusOf(login('throttled', 'pw-throttled'));
    expect(s.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(s.details).toMatch(/retry in \d+ s/);
    expect(s.details).not.toContain('pw-');
  });
});

describe('Refresh', () => {
  it('rotates: a new refresh token, the same session; reuse of the old one once the new one was used kills the family', async () => {
    const first = await login('alice', 'pw-alice');
    const second = await refresh(first.refresh_token, ['a']);
    expect(second.refresh_token).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.scope).toBe('a');
    const [c1, c2] = [decodeJwt(first.access_token), await verify(second.access_token)];
    expect(c2.sid).toBe(c1.sid);
    expect(c2.scope).toBe('a');
    // Presented again before the new one was used (a lost answer): the same successor.
    expect((await refresh(first.refresh_token)).refresh_token).toBe(second.refresh_token);

    const third = await refresh(second.refresh_token);
    const reuse = await statusOf(refresh(first.refresh_token));
    expect(reuse.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await statusOf(refresh(third.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('20 concurrent refreshes of one token all get the same successor', async () => {
    const { refresh_token } = await login('alice', 'pw-alice');
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(refresh_token)));
    expect(new Set(results.map((r) => r.refresh_token)).size).toBe(1);
  });

  it('an access token is never taken as a refresh token', async () => {
    const { access_token } = await login('bob', 'pw-bob');
    expect((await statusOf(refresh(access_token))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('an audience withdrawn from the user: an earlier session ends (user add is a credential change), a new login cannot get it', async () => {
    const add = (audiences: string) =>
      cli(['user', 'add', 'carol', '--scopes', 'a', '--audiences', audiences], 'pw-carol\n');
    expect((await add('echo,svc2')).code).toBe(0);
    const first = await login('carol', 'pw-carol', { audience: ['echo', 'svc2'] });
    expect(decodeJwt(first.access_token).aud).toEqual(['echo', 'svc2']);
    // The operator takes svc2 away: replacing the user ends its sessions (issue 10), never svc2 again.
    expect((await add('echo')).code).toBe(0);
    // The service reads users through a KV watch: wait until it sees the change.
    for (let i = 0; i < 50; i++) {
      const denied = await statusOf(login('carol', 'pw-carol', { audience: ['svc2'] })).catch(
        () => undefined,
      );
      if (denied?.code === grpc.status.PERMISSION_DENIED) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await statusOf(refresh(first.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('Revoke', () => {
  const revoke = (req: object, token: string) =>
    call<{ kind: string; value: string; at: number; sequence: number }>('Revoke', req, token);

  it('logout: a user revokes its own session; its refresh token stops working', async () => {
    const s = await login('bob', 'pw-bob');
    const sid = decodeJwt(s.access_token).sid as string;
    const res = await revoke({ session_id: sid, reason: 'logout' }, s.access_token);
    expect(res).toMatchObject({ kind: 'sid', value: sid });
    expect(res.sequence).toBeGreaterThan(0);
    expect((await statusOf(refresh(s.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("another subject's session needs authmesh:admin", async () => {
    const alice = await login('alice', 'pw-alice');
    const bob = await login('bob', 'pw-bob');
    const sid = decodeJwt(alice.access_token).sid as string;
    expect((await statusOf(revoke({ session_id: sid }, bob.access_token))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    const admin = await clientToken('admin');
    expect((await revoke({ token: alice.refresh_token }, admin.access_token)).kind).toBe('sid');
    expect((await statusOf(refresh(alice.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('a session_id that no session can have is INVALID_ARGUMENT, not INTERNAL', async () => {
    const bob = await login('bob', 'pw-bob');
    const admin = await clientToken('admin');
    for (const session_id of ['not a session', 'a.>', '*', '.x']) {
      for (const token of [bob.access_token, admin.access_token]) {
        const st = await statusOf(revoke({ session_id }, token));
        expect(st.code, session_id).toBe(grpc.status.INVALID_ARGUMENT);
        expect(st.details).not.toContain(session_id);
      }
    }
  });

  it('without a token it is UNAUTHENTICATED', async () => {
    expect((await statusOf(revoke({ all: true }, ''))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('an admin revokes an access token: the auth service itself then refuses it', async () => {
    const bob = await login('bob', 'pw-bob');
    const alice = await login('alice', 'pw-alice');
    expect((await statusOf(revoke({ token: bob.access_token }, alice.access_token))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    const admin = await clientToken('admin');
    expect((await statusOf(revoke({ token: 'garbage.token.here' }, admin.access_token))).code).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
    const res = await revoke({ token: bob.access_token, reason: 'test' }, admin.access_token);
    expect(res).toMatchObject({ kind: 'jti', value: decodeJwt(bob.access_token).jti });
    // The revocation reaches the auth service's own guard through NATS: poll briefly, bounded.
    let code = 0;
    for (let i = 0; i < 40 && code !== grpc.status.UNAUTHENTICATED; i++) {
      code = (await statusOf(revoke({ jti: 'anything' }, bob.access_token))).code;
      if (code !== grpc.status.UNAUTHENTICATED) await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('`authmesh revoke --subject` ends the sessions of that subject', async () => {
    const carol = await login('bob', 'pw-bob');
    const r = await cli(['revoke', '--subject', 'bob', '--reason', 'offboarded']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ kind: 'sub', value: 'bob' });
    expect((await statusOf(refresh(carol.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('`authmesh revoke --subjects-file` ends the sessions of every subject listed, and only theirs', async () => {
    const bobs = await login('bob', 'pw-bob');
    const alices = await login('alice', 'pw-alice', { audience: ['echo'] });
    const file = join(mkdtempSync(join(tmpdir(), 'authmesh-subjects-')), 'subjects.txt');
    writeFileSync(file, 'bob\n\n  ghost-1  \nbob\nghost-2\n');
    const r = await cli(['revoke', '--subjects-file', file, '--reason', 'incident']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary).toMatchObject({ event: 'revoked', kind: 'sub', count: 3, failed: 0 });
    expect(summary.last_sequence - summary.first_sequence).toBe(2);
    expect((await statusOf(refresh(bobs.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await refresh(alices.refresh_token)).refresh_token).not.toBe('');
    const both = await cli(['revoke', '--subjects-file', file, '--subject', 'bob']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/exactly one target/);
  });

  it('`authmesh revoke --subjects-file --batch`: one signed event for all of them; sessions end and the auth service refuses their tokens', async () => {
    const bobs = await login('bob', 'pw-bob');
    const alices = await login('alice', 'pw-alice', { audience: ['echo'] });
    const file = join(mkdtempSync(join(tmpdir(), 'authmesh-subjects-')), 'subjects.txt');
    writeFileSync(file, 'ghost-a\nbob\nghost-b\n');
    const r = await cli(['revoke', '--subjects-file', file, '--batch', '--reason', 'incident']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary).toMatchObject({ event: 'revoked', kind: 'sub', count: 3, failed: 0 });
    expect(summary.last_sequence).toBe(summary.first_sequence);
    expect((await statusOf(refresh(bobs.refresh_token))).code).toBe(grpc.status.UNAUTHENTICATED);
    // The auth service's own guard (an interceptor feed) applies the batch to bob's access token.
    let code = 0;
    for (let i = 0; i < 40 && code !== grpc.status.UNAUTHENTICATED; i++) {
      code = (await statusOf(revoke({ jti: 'anything' }, bobs.access_token))).code;
      if (code !== grpc.status.UNAUTHENTICATED) await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await refresh(alices.refresh_token)).refresh_token).not.toBe('');
    const alone = await cli(['revoke', '--subject', 'bob', '--batch']);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/--batch goes with --subjects-file/);
  });
});

describe('ExchangeToken', () => {
  const exchange = (subject_token: string, audience: string, token: string, scope: string[] = []) =>
    call<TokenResponse__Output>('ExchangeToken', { subject_token, audience, scope }, token);

  it('two hops nest the act chain; sub, sid and roles kept; scope only narrows; lifetime bounded', async () => {
    const user = await login('alice', 'pw-alice', { audience: ['echo'], scope: ['a', 'b'] });
    const original = decodeJwt(user.access_token);
    const svc1 = (await clientToken('svc1')).access_token;
    const hop1 = await exchange(user.access_token, 'svc2', svc1, ['a', 'c']);
    expect(hop1.scope).toBe('a');
    expect(hop1.refresh_token).toBe('');
    const svc2 = (await clientToken('svc2')).access_token;
    const hop2 = await exchange(hop1.access_token, 'svc3', svc2);
    const claims = await verify(hop2.access_token);
    expect(claims).toMatchObject({
      sub: 'alice',
      aud: 'svc3',
      sid: original.sid,
      roles: ['reader', 'writer'],
      scope: 'a',
      act: { sub: 'svc2', act: { sub: 'svc1' } },
    });
    expect(claims.exp!).toBeLessThanOrEqual(original.exp!);
  });

  it("a delegated token cannot act at the auth service (its audience is downstream), but revokes itself by possession; the subject's session survives", async () => {
    const user = await login('alice', 'pw-alice', { audience: ['echo'] });
    const svc1 = (await clientToken('svc1')).access_token;
    const delegated = (await exchange(user.access_token, 'svc2', svc1)).access_token;
    const revoke = (request: object) =>
      statusOf(call<object>('Revoke', { ...request, reason: 'test' }, delegated));
    const sid = decodeJwt(user.access_token).sid as string;
    expect((await revoke({ session_id: sid })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await revoke({ subject: 'alice' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await revoke({ token: user.access_token })).code).toBe(grpc.status.UNAUTHENTICATED);
    await expect(
      call<{ kind: string; value: string }>('Revoke', { token: delegated, reason: 'test' }),
    ).resolves.toMatchObject({ kind: 'jti', value: decodeJwt(delegated).jti });
    // The user's own session still refreshes: nothing of it was revoked.
    expect((await refresh(user.refresh_token)).access_token).toBeTruthy();
  });

  it('refuses a user token as caller, a missing exchange scope, and an audience the caller may not have', async () => {
    const user = await login('alice', 'pw-alice', { audience: ['echo'] });
    const svc1 = (await clientToken('svc1')).access_token;
    const plain = (await clientToken('plain')).access_token;
    // A user's token for the auth service is a valid caller token, but not a client's.
    const userForAuth = (await login('alice', 'pw-alice')).access_token;
    expect((await statusOf(exchange(user.access_token, 'svc2', userForAuth))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    // A token for echo presented to the auth service is refused as a caller token.
    expect((await statusOf(exchange(user.access_token, 'svc2', user.access_token))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    expect((await statusOf(exchange(user.access_token, 'echo', plain))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect((await statusOf(exchange(user.access_token, 'svc3', svc1))).code).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect((await statusOf(exchange('not.a.token', 'svc2', svc1))).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('restart', () => {
  it('after a restart earlier tokens verify and refresh families go on', async () => {
    const before = await login('alice', 'pw-alice', { audience: ['echo'] });
    await auth.stop();
    await startAuth();
    expect((await verify(before.access_token)).sub).toBe('alice');
    const after = await refresh(before.refresh_token);
    expect(decodeJwt(after.access_token).sid).toBe(decodeJwt(before.access_token).sid);
    // A token from before the restart still authenticates a call to the new instance.
    const svc1 = (await clientToken('svc1')).access_token;
    const res = await call<TokenResponse__Output>(
      'ExchangeToken',
      { subject_token: before.access_token, audience: 'svc2', scope: [] },
      svc1,
    );
    expect(res.access_token).toBeTruthy();
  });
});

describe('key withdrawal', () => {
  it('revoking a key id withdraws it: its tokens stop working, new tokens use another key', async () => {
    const before = await clientToken('admin');
    const kid = decodeProtectedHeader(before.access_token).kid!;
    const res = await call<{ kind: string; value: string }>(
      'Revoke',
      { key_id: kid, reason: 'compromised' },
      before.access_token,
    );
    expect(res).toMatchObject({ kind: 'kid', value: kid });
    const after = await clientToken('admin');
    expect(decodeProtectedHeader(after.access_token).kid).not.toBe(kid);
    expect(
      JSON.parse((await call<{ keys_json: string }>('GetJwks', {})).keys_json).keys.map(
        (k: { kid: string }) => k.kid,
      ),
    ).not.toContain(kid);
    let code = 0;
    for (let i = 0; i < 40 && code !== grpc.status.UNAUTHENTICATED; i++) {
      code = (await statusOf(call('Revoke', { jti: 'x' }, before.access_token))).code;
      if (code !== grpc.status.UNAUTHENTICATED) await new Promise((r) => setTimeout(r, 50));
    }
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await call<{ kind: string }>('Revoke', { jti: 'some-jti' }, after.access_token)).kind).toBe(
      'jti',
    );
  });
});

describe('NATS down', () => {
  it('a revocation that cannot be made durable is UNAVAILABLE', async () => {
    const admin = (await clientToken('admin')).access_token;
    nats.kill();
    const s = await statusOf(call('Revoke', { jti: 'some-jti', reason: 'x' }, admin));
    expect(s.code).toBe(grpc.status.UNAVAILABLE);
  }, 20_000);
});
