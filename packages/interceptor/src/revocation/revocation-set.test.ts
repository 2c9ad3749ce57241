import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RevocationSet } from './revocation-set.js';
import type { RevocationSubject } from './revocation.types.js';

const NOW = 1_800_000_000;
const tok = (over: Partial<RevocationSubject> = {}): RevocationSubject => ({
  jti: 'j1',
  sid: 's1',
  sub: 'alice',
  iat: NOW - 10,
  kid: 'k1',
  ...over,
});
const ev = (kind: 'jti' | 'sid' | 'sub' | 'kid' | 'all', value: string, at = NOW, exp = NOW + 300) => ({
  kind,
  value,
  at,
  exp,
});

describe('RevocationSet', () => {
  const sets: RevocationSet[] = [];
  const make = (o?: ConstructorParameters<typeof RevocationSet>[0]) => {
    const s = new RevocationSet({ sweepIntervalMs: 0, ...o });
    sets.push(s);
    return s;
  };
  afterEach(() => {
    sets.splice(0).forEach((s) => s.close());
    vi.useRealTimers();
  });

  it('starts empty', () => {
    const s = make();
    expect(s.isRevoked(tok())).toBe(false);
    expect(s.size).toBe(0);
    expect(s.epoch).toBe(0);
  });

  it('jti rejects only that token', () => {
    const s = make();
    s.apply(ev('jti', 'j1'));
    expect(s.isRevoked(tok())).toBe(true);
    expect(s.isRevoked(tok({ jti: 'j2' }))).toBe(false);
  });

  it('sid rejects tokens of that session, not tokens without a session', () => {
    const s = make();
    s.apply(ev('sid', 's1'));
    expect(s.isRevoked(tok({ jti: 'x' }))).toBe(true);
    expect(s.isRevoked(tok({ jti: 'x', sid: 's2' }))).toBe(false);
    expect(s.isRevoked(tok({ jti: 'x', sid: undefined }))).toBe(false);
  });

  it('sub rejects that subject’s tokens issued at or before `at`, keeps the latest at', () => {
    const s = make();
    s.apply(ev('sub', 'alice', NOW));
    expect(s.isRevoked(tok({ iat: NOW - 1 }))).toBe(true);
    expect(s.isRevoked(tok({ iat: NOW }))).toBe(true);
    expect(s.isRevoked(tok({ iat: NOW + 1 }))).toBe(false);
    expect(s.isRevoked(tok({ sub: 'bob', iat: NOW - 1 }))).toBe(false);
    // An older event (replayed late) must not lower `at`.
    s.apply(ev('sub', 'alice', NOW - 100));
    expect(s.isRevoked(tok({ iat: NOW - 50 }))).toBe(true);
    s.apply(ev('sub', 'alice', NOW + 5));
    expect(s.isRevoked(tok({ iat: NOW + 3 }))).toBe(true);
  });

  it('all rejects every token with iat <= at (max of all events)', () => {
    const s = make();
    s.apply(ev('all', '', NOW));
    expect(s.isRevoked(tok({ sub: 'anyone', jti: 'q', sid: undefined, iat: NOW }))).toBe(true);
    expect(s.isRevoked(tok({ iat: NOW + 1 }))).toBe(false);
    s.apply(ev('all', '', NOW - 10));
    expect(s.isRevoked(tok({ iat: NOW }))).toBe(true);
  });

  it('kid rejects every token signed with that key', () => {
    const s = make();
    s.apply(ev('kid', 'k1'));
    expect(s.isRevoked(tok({ jti: 'other', sid: undefined, iat: NOW + 1000 }))).toBe(true);
    expect(s.isRevoked(tok({ kid: 'k2' }))).toBe(false);
  });

  it('epoch bumps on every change and not on a duplicate', () => {
    const s = make();
    expect(s.apply(ev('jti', 'a'))).toBe(true);
    expect(s.epoch).toBe(1);
    expect(s.apply(ev('jti', 'a'))).toBe(false);
    expect(s.epoch).toBe(1);
    s.apply(ev('sid', 'b'));
    s.apply(ev('sub', 'c'));
    s.apply(ev('kid', 'd'));
    s.apply(ev('all', ''));
    expect(s.epoch).toBe(5);
  });

  it('a later event with a smaller exp never shortens an entry', () => {
    const s = make({ graceSec: 0 });
    s.apply(ev('jti', 'a', NOW, NOW + 300));
    s.apply(ev('jti', 'a', NOW, NOW + 1));
    expect(s.sweep(NOW + 100)).toBe(0);
    expect(s.has('jti', 'a')).toBe(true);
  });

  it('sweeps entries past exp + grace with a frozen clock, on its timer', () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW * 1000);
    const s = make({ sweepIntervalMs: 1000, graceSec: 60 });
    s.apply(ev('jti', 'short', NOW, NOW + 10));
    s.apply(ev('jti', 'long', NOW, NOW + 1000));
    s.apply(ev('sid', 'sess', NOW, NOW + 10));
    s.apply(ev('sub', 'alice', NOW, NOW + 10));
    s.apply(ev('kid', 'k', NOW, NOW + 10));
    s.apply(ev('all', '', NOW, NOW + 10));
    vi.advanceTimersByTime(60_000); // exp + 50 s: still within grace
    expect(s.size).toBe(6);
    vi.advanceTimersByTime(30_000); // exp + 80 s
    expect(s.size).toBe(1);
    expect(s.has('jti', 'long')).toBe(true);
    expect(s.isRevoked(tok({ jti: 'z', sid: undefined, iat: NOW - 5 }))).toBe(false);
  });

  it('an event moot at arrival (exp + grace passed) changes nothing: no entry, no epoch move', () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW * 1000);
    const s = make({ graceSec: 60 });
    for (const kind of ['jti', 'sid', 'sub', 'kid', 'all'] as const)
      expect(s.apply(ev(kind, 'old', NOW - 1000, NOW - 61))).toBe(false);
    expect(s.size).toBe(0);
    expect(s.epoch).toBe(0);
    // Within the grace it still counts: a token accepted under the clock tolerance must meet it.
    expect(s.apply(ev('jti', 'recent', NOW - 1000, NOW - 59))).toBe(true);
    expect(s.has('jti', 'recent')).toBe(true);
  });

  it('pending entries fail closed, report the hit, and are dropped or confirmed', () => {
    const hits: string[] = [];
    const s = make({ onPendingHit: (k, v, seq) => hits.push(`${k}:${v}:${seq}`) });
    expect(s.addPending('jti', 'j1', 7)).toBe(true);
    expect(s.addPending('jti', 'j1', 8)).toBe(false); // collision: caller verifies eagerly
    expect(s.pending).toBe(1);
    expect(s.isRevoked(tok())).toBe(true);
    expect(hits).toEqual(['jti:j1:7']);
    expect(s.pendingMatches(tok())).toEqual([{ kind: 'jti', value: 'j1', seq: 7 }]);
    const e = s.epoch;
    s.dropPending('jti', 'j1', 8); // not the seq it points at: no effect
    expect(s.isRevoked(tok())).toBe(true);
    s.dropPending('jti', 'j1', 7);
    expect(s.isRevoked(tok())).toBe(false);
    expect(s.epoch).toBe(e + 1);
    s.addPending('sid', 's1', 9);
    s.apply(ev('sid', 's1'));
    expect(s.pending).toBe(0);
    expect(s.pendingMatches(tok())).toEqual([]);
    expect(s.isRevoked(tok())).toBe(true);
  });

  it('sweeps pending entries whose stream message aged out', () => {
    const s = make();
    s.addPending('jti', 'a', 1);
    s.addPending('jti', 'b', 5);
    s.addPending('sid', 'c', 2);
    expect(s.sweepPendingBelow(3)).toBe(2);
    expect(s.has('jti', 'b')).toBe(true);
    expect(s.pending).toBe(1);
  });

  it('holds at most maxPending unverified entries: past it, the caller must verify first', () => {
    const s = make({ maxPending: 3 });
    expect(s.addPendingBatch('jti', ['a', 'b'], 1)).toBe(true);
    expect(s.addPendingBatch('sid', ['c', 'd'], 2)).toBe(false); // would make 4: nothing added
    expect(s.has('sid', 'c')).toBe(false);
    expect(s.addPending('sid', 'c', 3)).toBe(true);
    expect(s.addPending('jti', 'e', 4)).toBe(false);
    expect(s.pending).toBe(3);
    // Verified entries are not bounded by it (they are genuine), and a verification frees a slot.
    expect(s.apply(ev('jti', 'a'))).toBe(true);
    expect(s.addPending('jti', 'e', 4)).toBe(true);
    expect(() => make({ maxPending: -1 })).toThrow(/maxPending/);
  });

  it('validates options', () => {
    expect(() => new RevocationSet({ sweepIntervalMs: -1 })).toThrow(/sweepIntervalMs/);
    expect(() => new RevocationSet({ sweepIntervalMs: 0, graceSec: Number.NaN })).toThrow(/graceSec/);
  });

  it('isRevoked is fast on a miss and the set holds 100k jti entries in ≤ 100 B each', () => {
    // A real gc() makes the heap figure exact enough to hold the ≤ 100 B/entry target.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 100_000;
    const event = { kind: 'jti' as const, value: '', at: NOW, exp: NOW + 300 };
    gc();
    const before = process.memoryUsage().heapUsed;
    const s = make();
    for (let i = 0; i < n; i++) {
      // 128 random bits, base64url: the size of a real jti (counted: the set holds the key string).
      event.value = randomBytes(16).toString('base64url');
      event.exp = NOW + 300 + (i % 7);
      s.apply(event);
    }
    gc();
    const perEntry = (process.memoryUsage().heapUsed - before) / n;
    console.log(
      `[revocation-set] ${n} jti entries: ${perEntry.toFixed(1)} B/entry (incl. the 22-char jti strings)`,
    );
    expect(s.size).toBe(n);
    expect(perEntry).toBeLessThan(100);
    const t = tok({ jti: 'nope', sid: undefined });
    const t0 = performance.now();
    let hits = 0;
    for (let i = 0; i < 1_000_000; i++) if (s.isRevoked(t)) hits++;
    const ns = ((performance.now() - t0) * 1e6) / 1_000_000;
    console.log(`[revocation-set] isRevoked miss: ${ns.toFixed(0)} ns/call`);
    expect(hits).toBe(0);
  });
});
