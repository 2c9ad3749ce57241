import { describe, expect, it } from 'vitest';
import { LoginThrottle, peerAddress } from './throttle.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('LoginThrottle', () => {
  it('lets 4 failures pass, then opens a window that doubles per failure up to the cap', () => {
    const c = clock();
    const th = new LoginThrottle({ now: c.now, baseDelayMs: 1000, maxDelayMs: 8000 });
    for (let i = 0; i < 4; i++) th.failed('alice', '10.0.0.1');
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(0);
    th.failed('alice', '10.0.0.1'); // 5th
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(1000);
    c.advance(1000);
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(0);
    th.failed('alice', '10.0.0.1'); // 6th
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(2000);
    th.failed('alice', '10.0.0.1');
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(4000);
    th.failed('alice', '10.0.0.1');
    th.failed('alice', '10.0.0.1');
    expect(th.retryAfterMs('alice', '10.0.0.1')).toBe(8000); // capped
    // Other usernames from another peer are not affected.
    expect(th.retryAfterMs('bob', '10.0.0.2')).toBe(0);
  });

  it('a success resets the username counter', () => {
    const c = clock();
    const th = new LoginThrottle({ now: c.now });
    for (let i = 0; i < 4; i++) th.failed('alice', 'p');
    th.succeeded('alice');
    th.failed('alice', 'p');
    expect(th.retryAfterMs('alice', 'p')).toBe(0);
  });

  it('throttles a peer that tries many usernames', () => {
    const c = clock();
    const th = new LoginThrottle({ now: c.now, peerThreshold: 10 });
    for (let i = 0; i < 10; i++) th.failed(`user${i}`, '10.0.0.9');
    expect(th.retryAfterMs('someone-new', '10.0.0.9')).toBeGreaterThan(0);
    expect(th.retryAfterMs('someone-new', '10.0.0.8')).toBe(0);
  });

  it('forgets an entry idle for longer than the longest window', () => {
    const c = clock();
    const th = new LoginThrottle({ now: c.now, maxDelayMs: 60_000 });
    for (let i = 0; i < 5; i++) th.failed('alice', 'p');
    c.advance(60_001);
    th.failed('alice', 'p');
    expect(th.retryAfterMs('alice', 'p')).toBe(0);
  });

  it('keeps memory bounded', () => {
    const th = new LoginThrottle({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) th.failed(`u${i}`, `p${i}`);
    expect(th.size).toBe(200);
  });

  it('validates options', () => {
    expect(() => new LoginThrottle({ usernameThreshold: 0 })).toThrow(/options\.usernameThreshold/);
    expect(() => new LoginThrottle({ maxDelayMs: -1 })).toThrow(TypeError);
  });
});

describe('peerAddress', () => {
  it('strips scheme and port', () => {
    expect(peerAddress('ipv4:127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerAddress('ipv6:[::1]:5000')).toBe('::1');
    expect(peerAddress('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerAddress('unix:/tmp/sock')).toBe('/tmp/sock');
  });
});
