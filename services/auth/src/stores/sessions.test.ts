import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { SessionStore } from './sessions.js';

let server: NatsServer;
let nc: NatsConnection;
let sessions: SessionStore;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
  await openBuckets(nc.jetstream(), 1);
  sessions = await SessionStore.open(nc.jetstream(), { idleTtlSec: 60, absoluteTtlSec: 3600 });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const grant = { sub: 'alice', client_id: 'c', scope: ['a'], aud: ['authmesh'], roles: [] };

describe('SessionStore', () => {
  it('rotates a refresh token once; the old one is then reuse and ends the session', async () => {
    const first = await sessions.start(grant);
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await sessions.rotate(first.refreshToken);
    expect(second.ok).toBe(true);
    if (!second.ok) return;
    expect(second.session.sid).toBe(first.session.sid);
    const reuse = await sessions.rotate(first.refreshToken);
    expect(reuse).toEqual({ ok: false, reason: 'reuse', sid: first.session.sid, firstDetection: true });
    // The newer token of the family is dead too.
    expect(await sessions.rotate(second.refreshToken)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('of 20 concurrent rotations of one token exactly one wins', async () => {
    const { refreshToken } = await sessions.start(grant);
    const results = await Promise.all(Array.from({ length: 20 }, () => sessions.rotate(refreshToken)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'reuse')).toHaveLength(19);
    expect(results.filter((r) => !r.ok && r.reason === 'reuse' && r.firstDetection)).toHaveLength(1);
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

  it('expires an idle refresh token', async () => {
    let now = 1_000_000;
    const store = await SessionStore.open(nc.jetstream(), {
      idleTtlSec: 10,
      absoluteTtlSec: 100,
      now: () => now,
    });
    const s = await store.start(grant);
    expect(s.refreshExpiresIn).toBe(10);
    now += 10;
    expect(await store.rotate(s.refreshToken)).toEqual({ ok: false, reason: 'expired' });
  });

  it('finds the session of a refresh token', async () => {
    const s = await sessions.start(grant);
    expect((await sessions.sessionOfRefreshToken(s.refreshToken))?.sid).toBe(s.session.sid);
    expect(await sessions.sessionOfRefreshToken('nope')).toBeUndefined();
  });
});
