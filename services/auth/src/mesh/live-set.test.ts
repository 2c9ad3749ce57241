import { describe, expect, it } from 'vitest';
import type { MeshAnnouncement } from '@authmesh/interceptor';
import { LiveSet } from './live-set.js';

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
    expect(live.liveIds()).toEqual(['a']);
    now = 601;
    expect(live.liveIds()).toEqual([]);
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
    const ids = live.liveIds();
    expect(ids.length).toBeLessThanOrEqual(100);
    for (let i = 0; i < 10; i++) expect(ids).toContain(`real-${i}`);
    expect(live.refused).toBeGreaterThan(0);
  });

  it('waitApplied resolves as soon as every listed instance applied the sequence, else lists the pending ones', async () => {
    const live = new LiveSet();
    live.observe(ann('a', 4));
    live.observe(ann('b', 4));
    const waiting = live.waitApplied(['a', 'b'], 5, 10_000);
    live.observe(ann('a', 5));
    live.observe(ann('b', 6));
    const r = await waiting;
    expect(r.applied.map((i) => i.instance_id).sort()).toEqual(['a', 'b']);
    expect(r.pending).toEqual([]);

    const t0 = performance.now();
    const late = await live.waitApplied(['a', 'b'], 7, 100);
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
    const waiting = live.waitApplied(['a'], 2, 50);
    live.forget('a');
    const r = await waiting;
    expect(r.pending).toMatchObject([{ instance_id: 'a', audience: 'echo', applied_sequence: 1 }]);
  });
});
