// A writer to NATS is not the auth service (DESIGN.md, "The auth service's own trust boundary"): with a
// raw nats client and no KEK, an attacker adds a user, widens a user's scopes, appends a signing key to
// the ring, and moves a live refresh-token record under a token of their own. Every record that grants
// authority carries a MAC under a key derived from the KEK with its bucket and key as context
// (services/auth/src/stores/record-mac.ts), so each forgery is refused, counted, logged and listed by
// `authmesh doctor`. Real nats-server, the auth service and echo as processes.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { decodeJwt, SignJWT } from 'jose';
import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, type AuthServiceClient } from '@authmesh/proto';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, call, Mesh, PASSWORD, runCli, until } from '../support/mesh.js';

const ISSUER = 'http://auth.nats-writer.test';
let nats: NatsServer;
let mesh: Mesh;
let nc: NatsConnection;

const nameKey = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
const bucket = (name: string): Promise<KV> => nc.jetstream().views.kv(name, { bindOnly: true });

/** A stored record as the attacker sees it: the record itself, sealed (`{v,mac,record}`) or not. */
async function readRecord<T>(kv: KV, key: string): Promise<{ record: T; sealed?: { v: 1; mac: string } }> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT') throw new Error(`no record at ${key}`);
  const parsed = entry.json<{ v?: number; mac?: string; record?: T }>();
  return parsed.mac !== undefined
    ? { record: parsed.record as T, sealed: { v: 1, mac: parsed.mac } }
    : { record: parsed as T };
}

/**
 * The forms an attacker without the KEK can write: the bare record (as authmesh wrote records before
 * they had a MAC), and the record inside an envelope reusing the MAC of an authentic one.
 */
function forgeries(record: object, mac?: string): Uint8Array[] {
  const bare = Buffer.from(JSON.stringify(record));
  const stolenMac = mac ?? randomBytes(32).toString('base64url');
  return [bare, Buffer.from(JSON.stringify({ v: 1, mac: stolenMac, record }))];
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://${mesh.auth.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

const login = (username: string, scope: string[] = []) =>
  mesh.authCall('IssueToken', { password: { username, password: PASSWORD }, audience: ['echo'], scope });

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({ natsUrl: nats.url, issuer: ISSUER });
  nc = await connect({ servers: nats.url });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await mesh?.stop();
  await nats?.stop();
});

describe('a NATS writer without the KEK', () => {
  it('adds a user with an admin scope: the login is refused (in every form they can write)', async () => {
    const users = await bucket('AUTHMESH_USERS');
    // The attacker knows alice's password (their own account, say) and copies her password hash.
    const { record: alice } = await readRecord<{ password_hash: string }>(users, nameKey('alice'));
    expect((await login('alice')).code).toBe(0);
    for (const forged of forgeries({
      username: 'mallory',
      password_hash: alice.password_hash,
      roles: ['admin'],
      scopes: ['authmesh:admin', 'echo:admin'],
      audiences: ['echo'],
    })) {
      await users.put(nameKey('mallory'), forged);
      // Long enough for the service's watch to have seen the record (it is then refused there too).
      await new Promise((r) => setTimeout(r, 300));
      const r = await login('mallory', ['authmesh:admin']);
      expect(r.code, `forged user record ${Buffer.from(forged).toString().slice(0, 40)}`).toBe(
        grpc.status.UNAUTHENTICATED,
      );
    }
    expect(await metric('authmesh_records_refused_total', 'bucket="AUTHMESH_USERS"')).toBeGreaterThan(0);
    // Logged with where, never what (no password hash in the log).
    expect(mesh.auth.output).toMatch(/record refused.*AUTHMESH_USERS.*bWFsbG9yeQ|bWFsbG9yeQ.*record refused/);
    expect(mesh.auth.output).not.toContain(alice.password_hash);
  });

  it('adds a scope to an existing user: no token gets it; `user add` again restores the user', async () => {
    const users = await bucket('AUTHMESH_USERS');
    const { record, sealed } = await readRecord<{ scopes: string[] }>(users, nameKey('alice'));
    for (const forged of forgeries({ ...record, scopes: [...record.scopes, 'echo:admin'] }, sealed?.mac)) {
      await users.put(nameKey('alice'), forged);
      await new Promise((r) => setTimeout(r, 300));
      const r = await login('alice', ['echo:read', 'echo:admin']);
      // Refused outright (the record is not trusted at all), and in no case with the added scope.
      expect(r.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(JSON.stringify(r.res ?? {})).not.toContain('echo:admin');
    }
    // Records written by older authmesh (no MAC) are refused alike; the operator re-writes them.
    const restored = await runCli(
      mesh.env,
      ['user', 'add', 'alice', '--roles', 'dev', '--scopes', 'echo:read', '--audiences', 'echo'],
      `${PASSWORD}\n`,
    );
    expect(restored.code, restored.stderr).toBe(0);
    await until(async () => (await login('alice')).code === 0, 5000, 'alice restored');
    const r = await login('alice', ['echo:read', 'echo:admin']);
    expect(r.code).toBe(0);
    expect((r.res as { scope: string }).scope).toBe('echo:read');
  });

  it('makes a refresh token of their own for a live session, or moves its record under an id of their own: refused, the session lives on', async () => {
    const session = await mesh.login();
    // A family token is the sid, the generation and a MAC under a key from the KEK: the writer has the
    // sid (it rides in every access token) and can pick the generation, but must guess the MAC.
    const raw = Buffer.from(session.refresh_token, 'base64url');
    expect(raw).toHaveLength(48);
    const sid = raw.toString('base64url', 0, 12);
    for (const gen of [0, 1, 2]) {
      raw.writeUInt32BE(gen, 12);
      randomBytes(32).copy(raw, 16);
      const forged = await mesh.authCall('Refresh', { refresh_token: raw.toString('base64url') });
      expect(forged.code).toBe(grpc.status.UNAUTHENTICATED);
    }
    // The session's record copied under a session id of their own, a token with that id: refused.
    const sessions = await bucket('AUTHMESH_SESSIONS');
    const bytes = (await sessions.get(`sid.${sid}`))!.value;
    const own = randomBytes(12);
    await sessions.put(`sid.${own.toString('base64url')}`, bytes);
    own.copy(raw, 0);
    expect((await mesh.authCall('Refresh', { refresh_token: raw.toString('base64url') })).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    // None of that counted as reuse: the victim's own token still rotates.
    expect((await mesh.authCall('Refresh', { refresh_token: session.refresh_token })).code).toBe(0);
  });

  it('appends a signing key to the ring: never in the JWKS, tokens signed with it are refused', async () => {
    const keys = await bucket('AUTHMESH_KEYS');
    const { record: ring, sealed } = await readRecord<{ keys: object[] }>(keys, 'ring');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = `attacker-${randomUUID()}`;
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
    const genuine = decodeJwt((await mesh.login()).access_token);
    const forgedToken = await new SignJWT({ ...genuine, scope: 'echo:read echo:admin', jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(privateKey);
    const original = (await keys.get('ring'))!.value;
    try {
      for (const forged of forgeries(
        {
          ...ring,
          keys: [...ring.keys, { kid, alg: 'EdDSA', state: 'next', createdAt: Date.now(), publicJwk }],
        },
        sealed?.mac,
      )) {
        await keys.put('ring', forged);
        await new Promise((r) => setTimeout(r, 500));
        const jwks = await (await fetch(`http://${mesh.auth.http}/.well-known/jwks.json`)).text();
        expect(jwks).not.toContain(kid);
        // echo fetches the JWKS again for an unknown kid: the key is not there either.
        expect((await mesh.echo('Admin', forgedToken)).code).toBe(grpc.status.UNAUTHENTICATED);
        expect((await mesh.echo('WhoAmI', forgedToken)).code).toBe(grpc.status.UNAUTHENTICATED);
      }
      expect(await metric('authmesh_records_refused_total', 'bucket="AUTHMESH_KEYS"')).toBeGreaterThan(0);
      // The service keeps signing with the ring it trusts.
      expect((await mesh.echo('WhoAmI', (await mesh.login()).access_token)).code).toBe(0);

      // `authmesh doctor` names every refused record (and fails).
      const doctor = await runCli(mesh.env, ['doctor', '--json']);
      expect(doctor.code).toBe(1);
      const checks = doctor.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { check: string; ok: boolean; detail: string });
      const integrity = checks.find((c) => c.check === 'record integrity');
      expect(integrity?.ok).toBe(false);
      expect(integrity?.detail).toContain('AUTHMESH_KEYS/ring');
      expect(integrity?.detail).toContain(`AUTHMESH_USERS/${nameKey('mallory')}`);
      expect(checks.find((c) => c.check === 'keys')?.detail).toMatch(/fails its integrity check/);
    } finally {
      await keys.put('ring', original); // the authentic ring, for the service's shutdown
    }
  });
});

describe('in development mode (the KEK stored in NATS)', () => {
  it('records are sealed and checked the same way: a forged user is refused, a CLI-added one logs in', async () => {
    const devNats = await NatsServer.start();
    const env = {
      NATS_URL: devNats.url,
      AUTHMESH_ENV: 'development',
      AUTHMESH_KEK: '',
      AUTHMESH_KEK_FILE: '',
      AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
      AUTHMESH_ISSUER: 'http://auth.nats-writer-dev.test',
      AUTHMESH_SCRYPT_N: '1024',
      LOG_LEVEL: 'warn',
    };
    const auth = await ServiceProcess.start({ args: [authBin, 'serve'], env, name: 'auth-dev' });
    const client = new (authGrpc().authmesh.v1.AuthService)(
      auth.grpc,
      grpc.credentials.createInsecure(),
    ) as unknown as AuthServiceClient;
    const devNc = await connect({ servers: devNats.url });
    try {
      const added = await runCli(env, ['user', 'add', 'carol', '--scopes', 'echo:read'], `${PASSWORD}\n`);
      expect(added.code, added.stderr).toBe(0);
      const users = await devNc.jetstream().views.kv('AUTHMESH_USERS', { bindOnly: true });
      const carol = (await users.get(nameKey('carol')))!.json<{ record: { password_hash: string } }>();
      await users.put(
        nameKey('mallory'),
        Buffer.from(
          JSON.stringify({
            username: 'mallory',
            password_hash: carol.record.password_hash,
            roles: [],
            scopes: ['authmesh:admin'],
            audiences: [],
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      const login = (username: string) =>
        call(client, 'IssueToken', { password: { username, password: PASSWORD } });
      expect((await login('mallory')).code).toBe(grpc.status.UNAUTHENTICATED);
      expect((await login('carol')).code).toBe(0);
    } finally {
      await devNc.close();
      (client as unknown as grpc.Client).close();
      await auth.stop();
      await devNats.stop();
    }
  }, 120_000);
});
