import { describe, expect, it } from 'vitest';
import { VerdictCache } from './verdict-cache.js';

function clocked(max: number, ttl: number) {
  let t = 1000;
  const cache = new VerdictCache<string>(max, ttl, () => t);
  return { cache, advance: (ms: number) => (t += ms) };
}

describe('VerdictCache', () => {
  it('returns to empty after the TTL under steady traffic, not only at its bound', () => {
    const { cache, advance } = clocked(8192, 60_000);
    // One verdict a second for ten minutes: without an expiry this would hold 600.
    for (let i = 0; i < 600; i++) {
      cache.set(`d${i}`, 'applied');
      advance(1000);
    }
    // Only the last minute's verdicts are held.
    expect(cache.size).toBeLessThanOrEqual(61);
    expect(cache.get('d0')).toBeUndefined();
    expect(cache.get('d599')).toBe('applied');
    advance(60_000);
    expect(cache.sweep()).toBeGreaterThan(0);
    expect(cache.size).toBe(0);
  });

  it('holds a verdict until its TTL, and a re-stored one from its new time', () => {
    const { cache, advance } = clocked(10, 1000);
    cache.set('a', 'dropped');
    advance(999);
    expect(cache.has('a')).toBe(true);
    cache.set('a', 'applied'); // stored again: moves to the back with a fresh time
    cache.set('b', 'applied');
    advance(500);
    expect(cache.get('a')).toBe('applied');
    advance(500);
    expect(cache.has('a')).toBe(false);
    expect(cache.has('b')).toBe(false);
  });

  it('drops the oldest beyond its bound', () => {
    const { cache } = clocked(3, 60_000);
    for (const d of ['a', 'b', 'c', 'd']) cache.set(d, d);
    expect(cache.size).toBe(3);
    expect(cache.has('a')).toBe(false);
    expect(cache.get('d')).toBe('d');
  });

  it('deleteIf forgets only the verdict it was given', () => {
    const { cache } = clocked(3, 60_000);
    cache.set('a', 'first');
    cache.set('a', 'second');
    cache.deleteIf('a', 'first');
    expect(cache.get('a')).toBe('second');
    cache.deleteIf('a', 'second');
    expect(cache.has('a')).toBe(false);
  });

  it('names a bad option', () => {
    expect(() => new VerdictCache(0, 1000)).toThrow(/maxEntries/);
    expect(() => new VerdictCache(1, 0)).toThrow(/ttlMs/);
  });
});
