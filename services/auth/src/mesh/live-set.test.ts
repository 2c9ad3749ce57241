import { describe, expect, it } from 'vitest';
import type { MeshAnnouncement } from '@authmesh/interceptor';
import { AUTH_SERVICE_MESH_CLIENT, MeshKeys } from './announcement-keys.js';
import { LiveSet } from './live-set.js';
import { macAnnouncement } from '@authmesh/interceptor';

/** The instance ids live now. */
const idsOf = (live: LiveSet): string[] => live.instances().map((i) => i.instance_id!);

const ann = (id: string, seq = 0, period = 1000): MeshAnnouncement => ({
  v: 1,
  id,
  label: 'host/1',
  aud: 'echo',
  ver: '0.1.0',
  seq,
  stale: false,
  epoch: 0,
  period,
  authenticated: false,
});

describe('LiveSet', () => {
  it('forgets an instance unheard for 3 of its periods, not before', () => {
    let now = 0;
    const live = new LiveSet({ now: () => now });
    live.observe(ann('a', 1, 200));
    now = 600;
    expect(idsOf(live)).toEqual(['a']);
    now = 601;
    expect(idsOf(live)).toEqual([]);
  });

  it('a flood of fake ids fills only the free room: live instances that keep announcing are never evicted', () => {
    let now = 0;
    const live = new LiveSet({ maxInstances: 100, now: () => now });
    for (let i = 0; i < 10; i++) live.observe(ann(`real-${i}`));
    for (let round = 0; round < 20; round++) {
      now += 500; // the real ones announce every 500 ms (period 1000)
      for (let i = 0; i < 10; i++) live.observe(ann(`real-${i}`));
      for (let i = 0; i < 1000; i++) live.observe(ann(`fake-${round}-${i}`));
    }
    const ids = idsOf(live);
    expect(ids.length).toBeLessThanOrEqual(100);
    for (let i = 0; i < 10; i++) expect(ids).toContain(`real-${i}`);
    expect(live.refused).toBeGreaterThan(0);
  });

  it('waitApplied resolves as soon as every listed instance applied the sequence, else lists the pending ones', async () => {
    const live = new LiveSet();
    live.observe(ann('a', 4));
    live.observe(ann('b', 4));
    const keys = live.liveIds();
    const waiting = live.waitApplied(keys, 5, 10_000);
    live.observe(ann('a', 5));
    live.observe(ann('b', 6));
    const r = await waiting;
    expect(r.applied.map((i) => i.instance_id).sort()).toEqual(['a', 'b']);
    expect(r.pending).toEqual([]);

    const t0 = performance.now();
    const late = await live.waitApplied(keys, 7, 100);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(late.applied).toEqual([]);
    expect(late.pending.map((i) => [i.instance_id, i.applied_sequence])).toEqual([
      ['a', 5],
      ['b', 6],
    ]);
  });

  it('an instance that leaves during the wait stays pending, reported as last heard', async () => {
    const live = new LiveSet();
    live.observe(ann('a', 1));
    const waiting = live.waitApplied(live.liveIds(), 2, 50);
    live.goodbye(ann('a'));
    const r = await waiting;
    expect(r.pending).toMatchObject([{ instance_id: 'a', audience: 'echo', applied_sequence: 1 }]);
  });

  describe('attributable announcements', () => {
    const keys = new MeshKeys(Buffer.alloc(32, 7));
    const signed = (
      a: MeshAnnouncement,
      cid: string,
      n: number,
      kind: 'announce' | 'goodbye' = 'announce',
    ) => {
      const b = { ...a, cid, n };
      return { ...b, mac: macAnnouncement(keys.keyFor(cid, a.id), kind, b) };
    };

    it('an authenticated instance is confirmed only by its own MACed, newer announcements', async () => {
      const live = new LiveSet({ verifier: keys });
      live.observe(ann('a', 1)); // before the key arrived: unauthenticated, replaced by the first MACed one
      live.observe(signed(ann('a', 1), 'svc', 1));
      expect(live.instances()).toMatchObject([{ instance_id: 'a', authenticated: true, client_id: 'svc' }]);
      const waiting = live.waitApplied(live.liveIds(), 2, 100);
      live.observe(ann('a', 2)); // no proof
      live.observe({ ...signed(ann('a', 1), 'svc', 2), seq: 2 }); // MAC over other fields
      live.observe(signed(ann('a', 2), 'svc', 1)); // counter not newer
      live.observe(signed(ann('a', 2), 'mallory', 5)); // another client's key for the same id
      live.goodbye(ann('a')); // unauthenticated goodbye
      live.goodbye(signed(ann('a', 1), 'svc', 3)); // an announcement's MAC presented as a goodbye
      const r = await waiting;
      expect(r.applied).toEqual([]);
      expect(r.pending).toMatchObject([{ instance_id: 'a', client_id: 'svc', applied_sequence: 1 }]);
      expect(live.forged).toBe(5);
      // mallory's message is an instance of its own, attributed to mallory.
      expect(
        live
          .instances()
          .map((i) => i.client_id)
          .sort(),
      ).toEqual(['mallory', 'svc']);
      live.observe(signed(ann('a', 2), 'svc', 4));
      expect(live.instances().find((i) => i.client_id === 'svc')!.applied_sequence).toBe(2);
      live.goodbye(signed(ann('a', 2), 'svc', 5, 'goodbye'));
      expect(live.instances().map((i) => i.client_id)).toEqual(['mallory']);
    });

    it("the auth service's own key is derived apart: a client named like it cannot announce as it", () => {
      const live = new LiveSet({ verifier: keys });
      const b = { ...ann('x', 1), cid: AUTH_SERVICE_MESH_CLIENT, n: 1 };
      live.observe({ ...b, mac: macAnnouncement(keys.keyFor(AUTH_SERVICE_MESH_CLIENT, 'x'), 'announce', b) });
      expect(live.instances()).toEqual([]);
      live.observe({ ...b, mac: macAnnouncement(keys.serviceKeyFor('x'), 'announce', b) });
      expect(live.instances()).toMatchObject([{ authenticated: true, client_id: AUTH_SERVICE_MESH_CLIENT }]);
    });

    it('without a verifier, proofs are unchecked: unauthenticated, or as claimed with trustClaims', () => {
      const plain = new LiveSet();
      plain.observe(signed(ann('a', 1), 'svc', 1));
      expect(plain.instances()).toMatchObject([{ authenticated: false, client_id: '' }]);
      const claims = new LiveSet({ trustClaims: true });
      claims.observe(signed(ann('a', 1), 'svc', 1));
      expect(claims.instances()).toMatchObject([{ authenticated: true, client_id: 'svc' }]);
    });
  });
});
