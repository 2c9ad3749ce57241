import { describe, expect, it } from 'vitest';
import { ParkedEvents } from './parked-events.js';
import { ReplayProgress } from './replay-progress.js';

describe('ReplayProgress: caught up = nothing between what was applied and the stream end', () => {
  it('an empty or aged-out stream (first_seq > last_seq) is caught up before anything is delivered', () => {
    const p = new ReplayProgress();
    p.reset(101, 100);
    expect(p.caughtUp(100)).toBe(true);
    p.reset(1, 0); // a stream that never held anything
    expect(p.caughtUp(0)).toBe(true);
    p.reset(50, 100); // partly aged out: 50..100 still to read
    expect(p.caughtUp(100)).toBe(false);
    for (let s = 50; s <= 100; s++) p.deliver(s);
    expect(p.caughtUp(100)).toBe(true);
    expect(p.caughtUp(undefined)).toBe(false); // no mark yet
  });

  it('an event being verified or parked holds the applied sequence below it', () => {
    const p = new ReplayProgress();
    p.reset(1, 0);
    for (const s of [1, 2, 3]) p.deliver(s);
    p.hold(2);
    expect(p.applied).toBe(1);
    p.release(p.generation, 2);
    expect(p.applied).toBe(3);
    p.setFloor(2); // parked at 2
    expect(p.applied).toBe(1);
    expect(p.caughtUp(3)).toBe(false);
    p.setFloor(Infinity);
    expect(p.caughtUp(3)).toBe(true);
  });

  it('verifications that finish out of order never move the horizon past one still running', () => {
    const p = new ReplayProgress();
    p.reset(1, 0);
    for (const s of [1, 2, 3, 4]) {
      p.deliver(s);
      p.hold(s);
    }
    p.release(p.generation, 3); // the pool finished 3 before 1 and 2
    expect(p.applied).toBe(0);
    p.release(p.generation, 1);
    expect(p.applied).toBe(1);
    p.release(p.generation, 4);
    expect(p.applied).toBe(1);
    p.release(p.generation, 2);
    expect(p.applied).toBe(4);
  });

  it('ignores what older generations settle, and skips a deleted tail', () => {
    const p = new ReplayProgress();
    p.reset(1, 10);
    p.deliver(5);
    p.hold(5);
    const old = p.generation;
    p.reset(1, 0); // the stream was recreated
    p.release(old, 5);
    expect(p.applied).toBe(0);
    p.deliver(1);
    p.skipTo(4); // 2..4 deleted
    expect(p.caughtUp(4)).toBe(true);
    expect(p.deliver(3)).toBe(false);
  });
});

describe('ParkedEvents: bounded per class, never evicting', () => {
  it('a flood of other kids cannot crowd out an event of an announced kid, nor evict a parked one', () => {
    const parked = new ParkedEvents({ announced: 2, other: 3 });
    parked.announce('k2');
    expect(parked.add(10, 'jws', 'jti', 'k2', 0)).toBe(true);
    for (let s = 11; s < 20; s++) parked.add(s, 'jws', 'jti', `forged-${s}`, 0);
    expect(parked.size).toBe(4); // k2's event + 3 others; the rest not kept...
    expect(parked.overflowFrom).toBe(14); // ...but their place is held, to re-read from the stream
    expect(parked.floor()).toBe(10);
    expect(parked.add(20, 'jws', 'jti', 'k2', 0)).toBe(true); // its class still has room
    parked.remove(10);
    expect(parked.floor()).toBe(11);
    expect(parked.dropBelow(16)).toBe(3);
    expect(parked.overflowFrom).toBe(16);
  });
  it('keeps parked events across a recreated stream without letting them hold the new one', () => {
    const parked = new ParkedEvents({ announced: 2, other: 3 });
    parked.add(7, 'jws-a', 'jti', 'k2', 0);
    parked.add(9, 'jws-b', 'sub', 'k3', 0);
    parked.orphan();
    expect(parked.size).toBe(2);
    expect(parked.floor()).toBe(Infinity);
    expect(parked.dropBelow(100)).toBe(0); // no sequence of the new stream says they aged out
    expect(
      parked
        .events()
        .map((e) => e.jws)
        .sort(),
    ).toEqual(['jws-a', 'jws-b']);
    parked.add(3, 'jws-c', 'jti', 'k2', 0); // the new stream's own event
    expect(parked.floor()).toBe(3);
  });
});
