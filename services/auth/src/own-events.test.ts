import { describe, expect, it } from 'vitest';
import { OwnEvents } from './own-events.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const HEADER = b64({ alg: 'EdDSA', kid: 'k1', typ: 'authmesh-revocation+jwt' });
const jws = (value: string, sig = 'c2lnbmF0dXJl') => `${HEADER}.${b64({ kind: 'jti', value })}.${sig}`;

describe('OwnEvents', () => {
  it('knows exactly the strings it was given, nothing sharing only their kid or signature segment', () => {
    const own = new OwnEvents();
    const mine = jws('mine');
    own.add(mine);
    expect(own.has(mine)).toBe(true);
    const signature = mine.split('.')[2]!;
    expect(own.has(jws('victim', signature))).toBe(false); // same header and signature, other payload
    expect(own.has(`${mine}x`)).toBe(false);
    expect(own.has(mine.slice(0, -1))).toBe(false);
  });

  it('forgets by age', () => {
    let t = 1000;
    const own = new OwnEvents({ ttlMs: 100, now: () => t });
    own.add(jws('a'));
    t += 99;
    expect(own.has(jws('a'))).toBe(true);
    t += 1;
    expect(own.has(jws('a'))).toBe(false);
    own.add(jws('b'));
    expect(own.size).toBe(1);
  });

  it('holds at most `max`, dropping the oldest', () => {
    const own = new OwnEvents({ max: 3 });
    for (const v of ['a', 'b', 'c', 'd']) own.add(jws(v));
    expect(own.size).toBe(3);
    expect(own.has(jws('a'))).toBe(false);
    expect(own.has(jws('d'))).toBe(true);
  });

  it('validates its options', () => {
    expect(() => new OwnEvents({ max: 0 })).toThrow(/max/);
    expect(() => new OwnEvents({ ttlMs: -1 })).toThrow(/ttlMs/);
  });
});
