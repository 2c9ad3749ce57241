import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { RequestPipeline } from '../request-pipeline.js';
import { type RecordBucket, type RecordIntegrity, recordIntegrity } from './record-mac.js';
import { jsonValue } from './kv.js';
import {
  familyToken,
  newRefreshToken,
  newSessionId,
  parseFamilyToken,
  refreshTokenKey,
  successorToken,
} from './refresh-tokens.js';
import { type RefreshRecord, type SessionRecord, SessionStore } from './sessions.js';

const integrity = recordIntegrity(randomBytes(32), () => undefined);

let server: NatsServer;
let nc: NatsConnection;
let sessions: SessionStore;
const successorKey = randomBytes(32);
let ttls: ConstructorOptions = { idleTtlSec: 60, absoluteTtlSec: 3600, integrity };
type ConstructorOptions = Omit<Parameters<typeof SessionStore.open>[1], 'successorKey'>;
let requests: RequestPipeline | undefined;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
  await openBuckets(nc.jetstream(), 1);
});

afterAll(async () => {
  requests?.close();
  await nc?.close();
  await server?.stop();
});

const grant = { sub: 'alice', client_id: 'c', scope: ['a'], aud: ['authmesh'], roles: [] };

/**
 * A session as versions before family tokens started it: the session record without `refresh`, and a
 * chain token (43 characters) with its own record in AUTHMESH_REFRESH.
 */
async function startChain(
  now: number,
  lifetimes: { idleTtlSec: number; absoluteTtlSec: number } = ttls,
  sub = grant.sub,
): Promise<{ sid: string; token: string }> {
  const js = nc.jetstream();
  const sessionsKv = integrity.wrap(await js.views.kv('AUTHMESH_SESSIONS'), 'AUTHMESH_SESSIONS');
  const refreshKv = integrity.wrap(await js.views.kv('AUTHMESH_REFRESH'), 'AUTHMESH_REFRESH');
  const sid = newSessionId();
  const absolute = now + lifetimes.absoluteTtlSec;
  const session: SessionRecord = { sid, ...grant, sub, created_at: now, absolute_expires_at: absolute };
  const rev = await sessionsKv.create(`sid.${sid}`, jsonValue(session));
  const token = newRefreshToken();
  const record: RefreshRecord = {
    sid,
    sub,
    state: 'active',
    created_at: now,
    idle_expires_at: Math.min(now + lifetimes.idleTtlSec, absolute),
    absolute_expires_at: absolute,
    session_rev: rev,
  };
  await refreshKv.create(refreshTokenKey(token), jsonValue(record));
  return { sid, token };
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** A store on a clock the test moves (`clock.now`, unix seconds). */
function clockedStore(idleTtlSec: number, absoluteTtlSec: number, clock: { now: number }) {
  return SessionStore.open(nc.jetstream(), {
    idleTtlSec,
    absoluteTtlSec,
    successorKey,
    now: () => clock.now,
    integrity,
  });
}

// Every case twice: over nats.js's KV, and with the single-key operations pipelined as the service runs them.
describe.each(['nats.js KV', 'pipelined KV'])('SessionStore over %s', (variant) => {
  beforeAll(async () => {
    if (variant === 'pipelined KV') {
      requests = new RequestPipeline(nc);
      ttls = { ...ttls, pipeline: { jsm: await nc.jetstreamManager(), requests } };
    }
    sessions = await SessionStore.open(nc.jetstream(), { ...ttls, successorKey });
  });

  it('rotates a refresh token; presented again within the grace it returns the same successor, not reuse', async () => {
    const first = await sessions.start(grant);
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const second = await sessions.rotate(first.refreshToken);
    expect(second).toMatchObject({ ok: true, retried: false });
    if (!second.ok) return;
    expect(second.session.sid).toBe(first.session.sid);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The answer was lost: the client presents the first token again.
    const again = await sessions.rotate(first.refreshToken);
    expect(again).toMatchObject({ ok: true, retried: true, refreshToken: second.refreshToken });
    // The successor works, once it is used the first token is reuse and ends the session.
    const third = await sessions.rotate(second.refreshToken);
    expect(third.ok).toBe(true);
    const reuse = await sessions.rotate(first.refreshToken);
    expect(reuse).toEqual({ ok: false, reason: 'reuse', sid: first.session.sid, firstDetection: true });
    if (third.ok) expect(await sessions.rotate(third.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('of 20 concurrent rotations of one token one rotates and all get the same successor', async () => {
    const { refreshToken } = await sessions.start(grant);
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.rotate(refreshToken)));
    const tokens = new Set(results.map((r) => (r.ok ? r.refreshToken : `failed: ${r.reason}`)));
    expect([...tokens]).toHaveLength(1);
    expect(results.filter((r) => r.ok && !r.retried)).toHaveLength(1);
    const [successor] = tokens;
    expect((await sessions.rotate(successor!)).ok).toBe(true);
  });

  it('a token two generations old is reuse', async () => {
    const first = await sessions.start(grant);
    const second = await sessions.rotate(first.refreshToken);
    if (!second.ok) throw new Error('rotation failed');
    const third = await sessions.rotate(second.refreshToken);
    expect(third.ok).toBe(true);
    expect(await sessions.rotate(first.refreshToken)).toMatchObject({ ok: false, reason: 'reuse' });
  });

  it('after the grace, from another certificate, or with the grace disabled, presenting a rotated token is reuse', async () => {
    let now = 2_000_000;
    const clocked = await SessionStore.open(nc.jetstream(), { ...ttls, successorKey, now: () => now });
    const late = await clocked.start(grant);
    expect((await clocked.rotate(late.refreshToken)).ok).toBe(true);
    now += 15;
    expect(await clocked.rotate(late.refreshToken)).toMatchObject({ ok: true, retried: true });
    now += 1;
    expect(await clocked.rotate(late.refreshToken)).toMatchObject({ ok: false, reason: 'reuse' });

    const bound = await sessions.start(grant);
    expect((await sessions.rotate(bound.refreshToken, { certThumbprint: 'cert-a' })).ok).toBe(true);
    expect(await sessions.rotate(bound.refreshToken, { certThumbprint: 'cert-a' })).toMatchObject({
      ok: true,
    });
    expect(await sessions.rotate(bound.refreshToken)).toMatchObject({ ok: false, reason: 'reuse' });

    const strict = await SessionStore.open(nc.jetstream(), { ...ttls, successorKey, retryGraceSec: 0 });
    const once = await strict.start(grant);
    expect((await strict.rotate(once.refreshToken)).ok).toBe(true);
    expect(await strict.rotate(once.refreshToken)).toMatchObject({ ok: false, reason: 'reuse' });
  });

  it('a chain token (older format) rotates, is retried within the grace, and its reuse ends the session', async () => {
    const { sid, token } = await startChain(nowSec());
    const second = await sessions.rotate(token);
    expect(second).toMatchObject({ ok: true, retried: false, session: { sid } });
    if (!second.ok) return;
    // The chain stays a chain: its successor is the derived 43-character token.
    expect(second.refreshToken).toBe(successorToken(successorKey, token));
    expect(await sessions.rotate(token)).toMatchObject({
      ok: true,
      retried: true,
      refreshToken: second.refreshToken,
    });
    expect((await sessions.sessionOfRefreshToken(token))?.sid).toBe(sid);
    const third = await sessions.rotate(second.refreshToken);
    expect(third.ok).toBe(true);
    expect(await sessions.rotate(token)).toEqual({ ok: false, reason: 'reuse', sid, firstDetection: true });
    if (third.ok) expect(await sessions.rotate(third.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('a chain token: recreates a successor whose write was lost, and refuses it once the session is revoked', async () => {
    const nc2 = await connect({ servers: server.url });
    try {
      const first = await startChain(nowSec());
      const second = await sessions.rotate(first.token);
      if (!second.ok) throw new Error('rotation failed');
      // As if the rotating replica died after its compare-and-set, before the successor was stored.
      const kv = await nc2.jetstream().views.kv('AUTHMESH_REFRESH');
      await kv.purge(refreshTokenKey(second.refreshToken));
      expect(await sessions.rotate(first.token)).toMatchObject({
        ok: true,
        retried: true,
        refreshToken: second.refreshToken,
      });
      expect((await sessions.rotate(second.refreshToken)).ok).toBe(true);
      await sessions.revokeSession(first.sid, nowSec());
      expect(await sessions.rotate(first.token)).toMatchObject({ ok: false });
    } finally {
      await nc2.close();
    }
  });

  it('a chain token ends with its subject marker like a family token', async () => {
    const sub = `chain-${Date.now()}`;
    const chain = await startChain(nowSec(), ttls, sub);
    await sessions.revokeSubject(sub, nowSec());
    expect(await sessions.rotate(chain.token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses a family token it did not make, without ending the session it names', async () => {
    const s = await sessions.start(grant);
    const forged = Buffer.from(s.refreshToken, 'base64url');
    forged[forged.length - 1]! ^= 1;
    expect(await sessions.rotate(forged.toString('base64url'))).toEqual({ ok: false, reason: 'unknown' });
    // Another key (another deployment's KEK) makes a token of the same sid and generation: refused too.
    expect(await sessions.rotate(familyToken(randomBytes(32), s.session.sid, 0))).toEqual({
      ok: false,
      reason: 'unknown',
    });
    // A generation never handed out is not reuse either.
    expect(await sessions.rotate(familyToken(successorKey, s.session.sid, 7))).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await sessions.sessionOfRefreshToken(forged.toString('base64url'))).toBeUndefined();
    expect(parseFamilyToken(successorKey, s.refreshToken)).toEqual({ sid: s.session.sid, gen: 0 });
    expect((await sessions.rotate(s.refreshToken)).ok).toBe(true);
  });

  it('refuses unknown and wrongly shaped tokens', async () => {
    expect(await sessions.rotate('x'.repeat(43))).toEqual({ ok: false, reason: 'unknown' });
    expect(await sessions.rotate('a.b.c')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('ends sessions of a subject, or all, created at or before the revocation', async () => {
    const bob = await sessions.start({ ...grant, sub: 'bob.with dots/and spaces' });
    const carol = await sessions.start({ ...grant, sub: 'carol' });
    await sessions.revokeSubject('bob.with dots/and spaces', Math.floor(Date.now() / 1000));
    expect(await sessions.rotate(bob.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
    const carol2 = await sessions.rotate(carol.refreshToken);
    expect(carol2.ok).toBe(true);
    await sessions.revokeAll(Math.floor(Date.now() / 1000));
    if (carol2.ok)
      expect(await sessions.rotate(carol2.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it("compares sessions with sub/all markers on the bucket sequence, not on the writers' clocks", async () => {
    const sub = `clock-${Date.now()}`;
    const nowSec = Math.floor(Date.now() / 1000);
    // A replica whose clock is 100 s ahead revoked the subject; a session started afterwards lives.
    await sessions.revokeSubject(sub, nowSec + 100);
    const after = await sessions.start({ ...grant, sub });
    const rotated = await sessions.rotate(after.refreshToken);
    expect(rotated.ok).toBe(true);
    // A replica whose clock is 100 s behind revokes it again: the session, created before, ends.
    await sessions.revokeSubject(sub, nowSec - 100);
    if (rotated.ok)
      expect(await sessions.rotate(rotated.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('expires an idle refresh token', async () => {
    const clock = { now: 1_000_000 };
    const store = await clockedStore(10, 100, clock);
    const s = await store.start(grant);
    expect(s.refreshExpiresIn).toBe(10);
    clock.now += 10;
    expect(await store.rotate(s.refreshToken)).toEqual({ ok: false, reason: 'expired' });
  });

  it('finds the session of a refresh token', async () => {
    const s = await sessions.start(grant);
    expect((await sessions.sessionOfRefreshToken(s.refreshToken))?.sid).toBe(s.session.sid);
    expect(await sessions.sessionOfRefreshToken('nope')).toBeUndefined();
  });

  it('a rotation is one read of the session, then its one compare-and-set with the markers at once', async () => {
    // Each KV call is placed in a "wave": one more than the latest wave that had finished when it was
    // issued. Calls in one wave are in flight together; the number of waves is the sequential round trips.
    let finishedWave = 0;
    const waves: number[] = [];
    const counted: RecordIntegrity = {
      wrap(kv, bucket) {
        const inner = integrity.wrap(kv, bucket);
        const track =
          <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
          async (...args: A): Promise<R> => {
            const wave = finishedWave + 1;
            waves.push(wave);
            try {
              return await fn(...args);
            } finally {
              finishedWave = Math.max(finishedWave, wave);
            }
          };
        return {
          get: track(inner.get.bind(inner)),
          put: track(inner.put.bind(inner)),
          create: track(inner.create.bind(inner)),
          update: track(inner.update.bind(inner)),
          delete: track(inner.delete.bind(inner)),
          watch: inner.watch.bind(inner),
        } satisfies RecordBucket;
      },
    };
    const store = await SessionStore.open(nc.jetstream(), { ...ttls, integrity: counted, successorKey });
    const { refreshToken } = await store.start(grant);
    finishedWave = 0;
    waves.length = 0;
    expect((await store.rotate(refreshToken)).ok).toBe(true);
    // Wave 1: the session. Wave 2: the `sub` and `all` markers and the CAS on the session.
    expect(waves).toEqual([1, 2, 2, 2]);
    // A chain token (older format): wave 1 the token, wave 2 session, markers, CAS and successor's create.
    const chain = await startChain(nowSec());
    finishedWave = 0;
    waves.length = 0;
    expect((await store.rotate(chain.token)).ok).toBe(true);
    expect(waves).toEqual([1, 2, 2, 2, 2, 2]);
  });

  it('a rotation that finds its session revoked refuses, and leaves no usable token behind', async () => {
    const first = await sessions.start(grant);
    await sessions.revokeSession(first.session.sid, Math.floor(Date.now() / 1000));
    expect(await sessions.rotate(first.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
    // The token was rotated alongside the session read; neither it nor its successor works.
    expect((await sessions.rotate(first.refreshToken)).ok).toBe(false);
    expect((await sessions.rotate(familyToken(successorKey, first.session.sid, 1))).ok).toBe(false);

    const sub = `dead-${Date.now()}`;
    const second = await sessions.start({ ...grant, sub });
    await sessions.revokeSubject(sub, Math.floor(Date.now() / 1000));
    expect(await sessions.rotate(second.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
    expect((await sessions.rotate(familyToken(successorKey, second.session.sid, 1))).ok).toBe(false);
  });

  it("a NATS writer re-publishing a session's sealed bytes after a subject revocation does not bring it back", async () => {
    const sub = `replayed-${Date.now()}`;
    const s = await sessions.start({ ...grant, sub });
    await sessions.revokeSubject(sub, nowSec());
    // The same bytes again: a valid seal, and a revision after the marker's.
    const raw = await nc.jetstream().views.kv('AUTHMESH_SESSIONS');
    const key = `sid.${s.session.sid}`;
    await raw.put(key, (await raw.get(key))!.value);
    expect(await sessions.rotate(s.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('a session revocation outlasts a holder rotating its current token as fast as it can', async () => {
    const s = await sessions.start(grant);
    let token = s.refreshToken;
    let stop = false;
    const thief = (async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        const r = await sessions.rotate(token);
        if (!r.ok) return r.reason;
        token = r.refreshToken;
      }
      return 'still rotating';
    })();
    await new Promise((r) => setTimeout(r, 20));
    const revoked = await Promise.all(
      Array.from({ length: 3 }, () => sessions.revokeSession(s.session.sid, nowSec())),
    );
    stop = true;
    expect(revoked).toContain('revoked');
    expect(await thief).toBe('revoked');
  });

  it('a family at its last generation ends instead of overflowing', async () => {
    const s = await sessions.start(grant);
    const kv = integrity.wrap(await nc.jetstream().views.kv('AUTHMESH_SESSIONS'), 'AUTHMESH_SESSIONS');
    const key = `sid.${s.session.sid}`;
    const entry = (await kv.get(key))!;
    const record = JSON.parse(new TextDecoder().decode(entry.value)) as SessionRecord;
    record.refresh = { ...record.refresh!, gen: 0xffff_ffff };
    await kv.update(key, jsonValue(record), entry.revision);
    expect(await sessions.rotate(familyToken(successorKey, s.session.sid, 0xffff_ffff))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it("rotates a chain token stored by an older version (no session end in the record), within the session's end", async () => {
    const clock = { now: 3_000_000 };
    const store = await clockedStore(60, 100, clock);
    const s = await startChain(clock.now, { idleTtlSec: 60, absoluteTtlSec: 100 });
    const kv = integrity.wrap(await nc.jetstream().views.kv('AUTHMESH_REFRESH'), 'AUTHMESH_REFRESH');
    const key = refreshTokenKey(s.token);
    const old = JSON.parse(new TextDecoder().decode((await kv.get(key))!.value)) as RefreshRecord;
    expect(old.absolute_expires_at).toBe(3_000_100);
    delete old.absolute_expires_at;
    await kv.put(key, new TextEncoder().encode(JSON.stringify(old)));
    clock.now += 50;
    const rotated = await store.rotate(s.token);
    // The successor's idle lifetime is capped by the session's end, read from the session.
    expect(rotated).toMatchObject({ ok: true, retried: false, refreshExpiresIn: 50 });
  });

  it("a family token's idle lifetime is capped by the session's end, and the session ends there", async () => {
    const clock = { now: 4_000_000 };
    const store = await clockedStore(60, 100, clock);
    const s = await store.start(grant);
    clock.now += 50;
    const rotated = await store.rotate(s.refreshToken);
    expect(rotated).toMatchObject({ ok: true, retried: false, refreshExpiresIn: 50 });
    if (!rotated.ok) return;
    clock.now += 50;
    expect(await store.rotate(rotated.refreshToken)).toEqual({ ok: false, reason: 'expired' });
  });
});
