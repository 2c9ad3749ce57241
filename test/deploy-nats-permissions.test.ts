// deploy/nats-server.conf against a real nats-server: the auth-service user can do what the auth service
// does; a protected-service user can run the interceptor's revocation feed and nothing else. Each denial
// is an attack a compromised protected service would try, checked by its effect (no stream message, no
// bucket record, nothing received), not only by the error it gets.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, nanos, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKeyStore,
  createRevocationFeed,
  signRevocationEvent,
  type NatsRevocationFeed,
} from '@authmesh/interceptor';
import { repoRoot } from '@authmesh/testing';
import { natsConf, startDeployNats, type DeployNats, type NatsRole } from './support/deploy-nats.js';
import { until } from './support/mesh.js';

const ISS = 'http://auth.test';
const STREAM = 'AUTHMESH_REVOCATIONS';
// Every bucket of services/auth/src/nats.ts BUCKETS, read from its source so a new one is covered here too.
const BUCKETS = [
  ...(
    /export const BUCKETS = \{([^}]*)\}/.exec(
      readFileSync(join(repoRoot, 'services/auth/src/nats.ts'), 'utf8'),
    )?.[1] ?? ''
  ).matchAll(/'(AUTHMESH_[A-Z_]+)'/g),
].map((m) => m[1]!);
// services/auth/src/nats.ts AUTH_INBOX_PREFIX: the auth service's replies go where services cannot listen.
const AUTH_INBOX_PREFIX = '_AUTHMESH_AUTH_INBOX';
const PERMISSION_DENIED = /permissions violation/i;

const signer = generateKeyPairSync('ed25519');
const KEY = { kid: 'k1', alg: 'EdDSA', privateKey: signer.privateKey };
// The interceptor's own key store, over a JWKS holding the signer's public key.
const keys = createKeyStore(async () => ({
  keys: [{ ...(signer.publicKey.export({ format: 'jwk' }) as object), kid: 'k1', alg: 'EdDSA', use: 'sig' }],
}));
const now = () => Math.floor(Date.now() / 1000);
const event = (jti: string) =>
  signRevocationEvent(
    { v: 1, kind: 'jti', value: jti, at: now(), exp: now() + 600, reason: 'test' },
    KEY,
    ISS,
  );
const token = (jti: string) => ({ jti, sid: undefined, sub: 'alice', iat: now(), kid: 'k1' });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('deploy/nats-server.conf: least-privilege NATS users', () => {
  let d: DeployNats;
  let auth: NatsConnection;
  let authJsm: JetStreamManager;
  let users: KV;
  let service: NatsConnection;
  let serviceJsm: JetStreamManager;
  /** Permission errors the service connection was told about (nats.js reports them as status events). */
  const serviceErrors: string[] = [];
  const feeds: NatsRevocationFeed[] = [];

  const connectAs = (role: NatsRole, extra: { inboxPrefix?: string } = {}) =>
    connect({
      servers: d.nats.url,
      ...d.creds(role),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      ...extra,
    });
  const lastSeq = async () => (await authJsm.streams.info(STREAM)).state.last_seq;

  beforeAll(async () => {
    await keys.ready();
    d = await startDeployNats();
    auth = await connectAs('auth', { inboxPrefix: AUTH_INBOX_PREFIX });
    authJsm = await auth.jetstreamManager();
    service = await connectAs('service');
    void (async () => {
      for await (const s of service.status()) if (s.type === 'error') serviceErrors.push(String(s.data));
    })();
    // A JetStream request the server refuses is answered by nothing: keep the wait for it short.
    serviceJsm = await service.jetstreamManager({ timeout: 2000 });
  });
  afterAll(async () => {
    await Promise.all(feeds.map((f) => f.close()));
    keys.close();
    await service?.close();
    await auth?.close();
    await d?.nats.stop();
  });

  it('the auth-service user creates the stream and every bucket, writes records and publishes revocations', async () => {
    await authJsm.streams.add({
      name: STREAM,
      subjects: ['authmesh.revoked.>'],
      max_age: nanos(3_600_000),
      duplicate_window: nanos(120_000),
    });
    // Raising a limit is an update the service makes on start.
    const info = await authJsm.streams.info(STREAM);
    await authJsm.streams.update(STREAM, { ...info.config, max_age: nanos(7_200_000) });
    const js = auth.jetstream();
    expect(BUCKETS).toEqual(expect.arrayContaining(['AUTHMESH_KEYS', 'AUTHMESH_USERS', 'AUTHMESH_CLIENTS']));
    const opened = await Promise.all(BUCKETS.map((b) => js.views.kv(b, { history: 1 })));
    users = opened[BUCKETS.indexOf('AUTHMESH_USERS')]!;
    await users.put('alice', bytes('{"roles":["dev"]}'));
    expect((await users.get('alice'))?.string()).toBe('{"roles":["dev"]}');
    const ack = await js.publish('authmesh.revoked.jti', bytes(await event('replayed-jti')));
    expect(ack.seq).toBe(1);
    auth.publish('authmesh.keys.rotated');
    auth.publish('authmesh.audit.login', bytes('{}'));
    await auth.flush();
  });

  it('the protected-service user runs the revocation feed: replay, live event, a replayed entry confirmed', async () => {
    const feed = createRevocationFeed({ servers: d.url('service'), keys, issuer: ISS, maxStalenessMs: 5000 });
    feeds.push(feed);
    await feed.ready();
    // A replayed jti is stored unverified; confirming it fetches message 1 by sequence (STREAM.MSG.GET).
    expect(await feed.confirm(token('replayed-jti'))).toBe(true);
    await auth.jetstream().publish('authmesh.revoked.jti', bytes(await event('live-jti')));
    await until(async () => feed.isRevoked(token('live-jti')), 5000, 'live revocation applied');
    expect(feed.isStale()).toBe(false);
  });

  it('denies the service publishing authmesh.revoked.>: core and JetStream publishes leave no event', async () => {
    const heard: string[] = [];
    const watch = auth.subscribe('authmesh.revoked.>', { callback: (_e, m) => heard.push(m.subject) });
    await auth.flush();
    const before = await lastSeq();
    const errorsBefore = serviceErrors.length;
    // A service replaying a genuinely signed event, or inventing a logout of everyone.
    service.publish('authmesh.revoked.jti', bytes(await event('forged-by-service')));
    service.publish('authmesh.revoked.all', bytes('{}'));
    await service.flush();
    await expect(
      service.jetstream({ timeout: 2000 }).publish('authmesh.revoked.jti', bytes('x')),
    ).rejects.toThrow(PERMISSION_DENIED);
    await new Promise((r) => setTimeout(r, 300));
    watch.unsubscribe();
    expect(heard).toEqual([]);
    expect(await lastSeq()).toBe(before);
    // nats.js reports a refused publish only as a status event (no subject): one per refused publish.
    expect(serviceErrors.length - errorsBefore).toBeGreaterThanOrEqual(3);
  });

  it('denies the service writing any bucket: no user record appears', async () => {
    for (const bucket of BUCKETS)
      await expect(
        service.jetstream({ timeout: 2000 }).publish(`$KV.${bucket}.mallory`, bytes('{}')),
        bucket,
      ).rejects.toThrow(PERMISSION_DENIED);
    service.publish('$KV.AUTHMESH_KEYS.ring', bytes('{"keys":[]}'));
    await service.flush();
    // The KV view cannot even bind to the bucket (its stream info is refused).
    await expect(service.jetstream({ timeout: 2000 }).views.kv('AUTHMESH_USERS')).rejects.toThrow();
    expect(await users.get('mallory')).toBeNull();
    const ring = await (await auth.jetstream().views.kv('AUTHMESH_KEYS')).get('ring');
    expect(ring).toBeNull();
  });

  it('denies the service deleting, purging or shrinking the revocation stream', async () => {
    const before = await authJsm.streams.info(STREAM);
    await expect(serviceJsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(PERMISSION_DENIED);
    await expect(serviceJsm.streams.purge(STREAM)).rejects.toThrow(PERMISSION_DENIED);
    await expect(serviceJsm.streams.delete(STREAM)).rejects.toThrow(PERMISSION_DENIED);
    await expect(
      serviceJsm.streams.update(STREAM, { ...before.config, max_age: nanos(1000) }),
    ).rejects.toThrow(PERMISSION_DENIED);
    const after = await authJsm.streams.info(STREAM);
    expect(after.state.messages).toBe(before.state.messages);
    expect(after.config.max_age).toBe(before.config.max_age);
    expect((await authJsm.streams.getMessage(STREAM, { seq: 1 })).seq).toBe(1);
  });

  it('denies the service reading the buckets or listening to the auth service and its replies', async () => {
    await expect(
      serviceJsm.streams.getMessage('KV_AUTHMESH_USERS', { last_by_subj: '$KV.AUTHMESH_USERS.alice' }),
    ).rejects.toThrow(PERMISSION_DENIED);
    const seen: string[] = [];
    const snoops = ['$KV.>', `${AUTH_INBOX_PREFIX}.>`, 'authmesh.audit.>', '>'].map((subject) =>
      service.subscribe(subject, { callback: (e, m) => void (e === null && seen.push(m.subject)) }),
    );
    await service.flush();
    // The auth service reads and writes a user record meanwhile (its replies go to its inbox prefix).
    await users.put('bob', bytes('{"roles":[]}'));
    expect(await users.get('bob')).not.toBeNull();
    auth.publish('authmesh.audit.login', bytes('{}'));
    await auth.flush();
    await new Promise((r) => setTimeout(r, 300));
    // The server refused each subscription (nats.js closes a refused one), and nothing was delivered.
    expect(snoops.map((sub) => sub.isClosed())).toEqual([true, true, true, true]);
    expect(seen).toEqual([]);
  });

  it('lets the service announce itself on authmesh.mesh.announce to the auth service, and hear key rotations', async () => {
    const announced: string[] = [];
    const mesh = auth.subscribe('authmesh.mesh.>', { callback: (_e, m) => announced.push(m.subject) });
    const rotations: string[] = [];
    const rotated = service.subscribe('authmesh.keys.rotated', {
      callback: (_e, m) => rotations.push(m.subject),
    });
    await Promise.all([auth.flush(), service.flush()]);
    service.publish('authmesh.mesh.announce', bytes('{}'));
    await service.flush();
    auth.publish('authmesh.keys.rotated');
    await auth.flush();
    await until(async () => announced.length === 1 && rotations.length === 1, 3000, 'mesh + rotation heard');
    mesh.unsubscribe();
    rotated.unsubscribe();
    // ...but a service may not announce a rotation itself (every interceptor would refetch the JWKS).
    const before = serviceErrors.length;
    service.publish('authmesh.keys.rotated');
    await service.flush();
    await until(async () => serviceErrors.length > before, 3000, 'rotation publish refused');
    // Nor ask for the mesh roster (it lists every instance, host and audience).
    const errors = serviceErrors.length;
    service.publish('authmesh.mesh.roster', bytes(''));
    await service.flush();
    await until(async () => serviceErrors.length > errors, 3000, 'roster request refused');
  });

  it('denies the auth-service user deleting or purging the revocation stream (no un-revoking)', async () => {
    await expect(authJsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(PERMISSION_DENIED);
    await expect(authJsm.streams.purge(STREAM)).rejects.toThrow(PERMISSION_DENIED);
    await expect(authJsm.streams.delete(STREAM)).rejects.toThrow(PERMISSION_DENIED);
    expect((await authJsm.streams.info(STREAM)).state.first_seq).toBe(1);
  });

  it('refuses a connection without credentials or with a wrong password', async () => {
    await expect(connect({ servers: d.nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(
      connect({ servers: d.nats.url, user: 'authmesh-service', pass: 'wrong', reconnect: false }),
    ).rejects.toThrow(/authorization/i);
  });

  it("keeps the service's feed working through a NATS restart (its consumer is re-created)", async () => {
    const feed = feeds[0]!;
    await d.nats.restart();
    const jws = bytes(await event('after-restart'));
    // Until the auth connection is back and the stream recovered, a publish may time out: try again.
    await until(
      () =>
        auth
          .jetstream({ timeout: 1000 })
          .publish('authmesh.revoked.jti', jws, { msgID: 'after-restart' })
          .then(
            () => true,
            () => false,
          ),
      15_000,
      'revocation published after restart',
    );
    await until(async () => feed.isRevoked(token('after-restart')), 15_000, 'revocation after restart');
  });

  it('docs/OPERATIONS.md shows the shipped file verbatim (what is documented is what is tested)', () => {
    const docs = readFileSync(join(repoRoot, 'docs/OPERATIONS.md'), 'utf8');
    const block = /```conf\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block).toBe(readFileSync(natsConf, 'utf8'));
  });
});
