import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { randomBytes } from 'node:crypto';
import { openBuckets } from './nats.js';
import { recordIntegrity, type RefusedRecord } from './stores/record-mac.js';
import { LoginThrottle, type LoginThrottleOptions } from './throttle.js';

let server: NatsServer;
let nc: NatsConnection;
let t = 1_000_000;
const refused: RefusedRecord[] = [];
const integrity = recordIntegrity(randomBytes(32), (r) => refused.push(r));
let run = 0;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
  await openBuckets(nc.jetstream(), 1);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** A throttle on the shared bucket with a frozen clock, and names no other test uses. */
async function throttle(options: LoginThrottleOptions = {}) {
  const n = ++run;
  const th = await LoginThrottle.open(nc.jetstream(), integrity, {
    now: () => t,
    baseDelayMs: 1000,
    ...options,
  });
  return { th, user: `user-${n}`, peer: `10.0.${n}.1`, other: `10.1.${n}.1` };
}

describe('LoginThrottle (shared budgets in JetStream KV)', () => {
  it('reserves before the check: of 40 concurrent attempts exactly the budget get through', async () => {
    const { th, user, peer } = await throttle();
    const results = await Promise.all(Array.from({ length: 40 }, () => th.reservePassword(user, peer)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    for (const r of results) if (!r.ok) expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it('delays double per further failure up to the cap; the same user from another peer is not delayed', async () => {
    const { th, user, peer, other } = await throttle({ maxDelayMs: 8000 });
    for (let i = 0; i < 5; i++) expect((await th.reservePassword(user, peer)).ok).toBe(true);
    expect(await th.reservePassword(user, peer)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect((await th.reservePassword(user, other)).ok).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      t += 10_000;
      expect((await th.reservePassword(user, peer)).ok).toBe(true);
      const r = await th.reservePassword(user, peer);
      waits.push(r.ok ? 0 : r.retryAfterMs);
    }
    expect(waits).toEqual([2000, 4000, 8000, 8000, 8000]);
  });

  it('a success gives the reservation back: the (user, peer) budget starts over', async () => {
    const { th, user, peer } = await throttle();
    for (let i = 0; i < 4; i++) await th.reservePassword(user, peer);
    const right = await th.reservePassword(user, peer); // the 5th: uses up the budget and starts a delay
    expect((await th.reservePassword(user, peer)).ok).toBe(false);
    await th.succeeded(right);
    for (let i = 0; i < 5; i++) expect((await th.reservePassword(user, peer)).ok).toBe(true);
  });

  it('counts per peer across usernames', async () => {
    const { th, peer } = await throttle({ peerMaxFailures: 3 });
    for (let i = 0; i < 3; i++) expect((await th.reservePassword(`spray-${run}-${i}`, peer)).ok).toBe(true);
    expect((await th.reservePassword(`spray-${run}-x`, peer)).ok).toBe(false);
  });

  it('slows guessing of one username from many peers with short delays, never a long lock', async () => {
    const { th, user } = await throttle({ usernameMaxFailures: 4, usernameMaxDelayMs: 5000 });
    for (let i = 0; i < 4; i++) expect((await th.reservePassword(user, `10.9.${run}.${i}`)).ok).toBe(true);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await th.reservePassword(user, `10.8.${run}.${i}`);
      waits.push(r.ok ? 0 : r.retryAfterMs);
      t += 6000;
      expect((await th.reservePassword(user, `10.7.${run}.${i}`)).ok).toBe(true);
    }
    // Every delay is within the short cap; after it, one attempt from anywhere goes through.
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000);
    expect(waits.every((w) => w > 0)).toBe(true);
  });

  it('a refused later budget gives back the earlier ones, so nothing unevaluated is counted', async () => {
    const { th, user, peer } = await throttle({ peerMaxFailures: 1 });
    expect((await th.reservePassword(`${user}-a`, peer)).ok).toBe(true);
    for (let i = 0; i < 10; i++) expect((await th.reservePassword(user, peer)).ok).toBe(false);
    t += 2000; // the peer delay is over: the (user, peer) budget is still whole
    expect((await th.reservePassword(user, peer)).ok).toBe(true);
  });

  it('client_credentials: one read while nothing failed; failures counted per (client id, peer), then reserved', async () => {
    const { th, user: clientId, peer, other } = await throttle();
    const first = await th.reserveClient(clientId, peer);
    expect(first).toEqual({ ok: true, held: [] });
    for (let i = 0; i < 5; i++) {
      const r = await th.reserveClient(clientId, peer);
      expect(r.ok).toBe(true);
      await th.clientFailed(clientId, peer, r);
    }
    expect((await th.reserveClient(clientId, peer)).ok).toBe(false);
    expect((await th.reserveClient(clientId, other)).ok).toBe(true);
  });

  it('a lock a NATS writer forged is refused (reported) and replaced: the victim is not locked out', async () => {
    const { th, user, peer } = await throttle();
    const raw = await nc.jetstream().views.kv('AUTHMESH_THROTTLE');
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
    const forged = new TextEncoder().encode(JSON.stringify({ n: 99, until: t + 600_000 }));
    await raw.put(`up.${b64(user)}.${b64(peer)}`, forged);
    await raw.put(`u.${b64(user)}`, forged);
    await raw.put(`cp.${b64(user)}.${b64(peer)}`, forged);
    expect((await th.reservePassword(user, peer)).ok).toBe(true);
    expect(await th.reserveClient(user, peer)).toEqual({ ok: true, held: [] });
    expect(refused).toContainEqual({ bucket: 'AUTHMESH_THROTTLE', key: `up.${b64(user)}.${b64(peer)}` });
    // The forged entries were replaced by sealed ones: the budget counts from there as usual.
    for (let i = 0; i < 4; i++) expect((await th.reservePassword(user, peer)).ok).toBe(true);
    expect((await th.reservePassword(user, peer)).ok).toBe(false);
  });
});
