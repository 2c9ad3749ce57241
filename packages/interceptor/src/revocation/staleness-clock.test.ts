import { describe, expect, it } from 'vitest';
import { StalenessClock } from './staleness-clock.js';

describe('StalenessClock', () => {
  it('credits the latest mark the feed has reached, so a steady backlog is its lag, not staleness for ever', () => {
    const clock = new StalenessClock(1500);
    const now = performance.now();
    // Stream-end marks taken once a second while events keep arriving faster than they are applied.
    clock.setMark(now - 3000, 100);
    clock.setMark(now - 2000, 200);
    clock.setMark(now - 1000, 300);
    clock.setMark(now, 400);
    expect(clock.isStale()).toBe(true); // nothing credited yet
    // Applied up to 320: everything published before the mark of 1 s ago is held.
    clock.caughtUp((end) => end <= 320);
    expect(clock.stalenessMs).toBeGreaterThanOrEqual(1000);
    expect(clock.stalenessMs).toBeLessThan(1400);
    expect(clock.isStale()).toBe(false);
    expect(clock.end).toBe(400); // readiness is still measured against the newest mark
  });

  it('credits nothing while the feed is below the oldest mark, and turns stale', () => {
    const clock = new StalenessClock(500);
    const now = performance.now();
    clock.setMark(now - 2000, 100);
    clock.setMark(now - 1000, 200);
    clock.caughtUp((end) => end <= 50);
    expect(clock.isStale()).toBe(true);
    clock.caughtUp((end) => end <= 100);
    expect(clock.stalenessMs).toBeGreaterThanOrEqual(2000);
    expect(clock.isStale()).toBe(true);
  });

  it('drops the old stream marks when the stream is recreated (sequences start again)', () => {
    const clock = new StalenessClock(1500);
    const now = performance.now();
    clock.setMark(now - 5000, 900);
    clock.restart(now, 3);
    // Reaching 3 on the new stream credits the new mark, never one of the old stream's.
    clock.caughtUp((end) => end <= 3);
    expect(clock.stalenessMs).toBeLessThan(1000);
    expect(clock.end).toBe(3);
  });
});
