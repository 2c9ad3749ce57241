import { describe, expect, it } from 'vitest';
import {
  hashClientSecret,
  newClientSecret,
  PasswordHasher,
  PasswordHasherBusyError,
  verifyClientSecret,
} from './passwords.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher({ cost: 1024 });

  it('stores the parameters in the hash and verifies the right password only', async () => {
    const stored = await hasher.hash('correct horse');
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(await hasher.verify('correct horse', stored)).toBe(true);
    expect(await hasher.verify('correct horsf', stored)).toBe(false);
    expect(await hasher.verify('', stored)).toBe(false);
  });

  it('salts: the same password hashes differently', async () => {
    expect(await hasher.hash('pw')).not.toBe(await hasher.hash('pw'));
  });

  it('verifies a hash made with other parameters (they travel in the string)', async () => {
    const stored = await new PasswordHasher({ cost: 2048, blockSize: 4 }).hash('pw');
    expect(await hasher.verify('pw', stored)).toBe(true);
  });

  it('fails an unknown user (no hash) like a wrong password, after the same work', async () => {
    const stored = await hasher.hash('pw');
    expect(await hasher.verify('pw', undefined)).toBe(false);
    // Timing: an unknown user must not be answered much faster. The two are timed alternately, pair by
    // pair, and the median ratio is judged, so load from other test files moves both sides alike.
    const slow = new PasswordHasher({ cost: 2 ** 13 });
    const slowStored = await slow.hash('pw');
    const time = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    const ratios: number[] = [];
    for (let i = 0; i < 9; i++) {
      const wrong = await time(() => slow.verify('wrong', slowStored));
      const unknown = await time(() => slow.verify('wrong', undefined));
      ratios.push(unknown / wrong);
    }
    const ratio = ratios.sort((a, b) => a - b)[4]!;
    // Wide bounds (CI is a loaded 2-core box); what they catch is an unknown user answered without scrypt.
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3);
    expect(stored).toBeTruthy();
  });

  it('refuses tampered or absurd stored parameters instead of running them', async () => {
    const stored = await hasher.hash('pw');
    const parts = stored.split('$');
    expect(await hasher.verify('pw', ['scrypt', String(2 ** 30), ...parts.slice(2)].join('$'))).toBe(false);
    expect(await hasher.verify('pw', 'bcrypt$whatever')).toBe(false);
  });

  it('runs at most maxConcurrent hashes at once and sheds beyond maxQueued', async () => {
    const limited = new PasswordHasher({ cost: 2 ** 14, maxConcurrent: 1, maxQueued: 2 });
    const stored = await limited.hash('pw');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => limited.verify('pw', stored)));
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(3);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(2);
    expect(rejected[0]!.reason).toBeInstanceOf(PasswordHasherBusyError);
    // Slots are given back: it works again afterwards.
    expect(await limited.verify('pw', stored)).toBe(true);
  });

  it('validates options at construction with a TypeError naming the option', () => {
    expect(() => new PasswordHasher({ cost: 1000 })).toThrow(/options\.cost/);
    expect(() => new PasswordHasher({ blockSize: 0 })).toThrow(/options\.blockSize/);
    expect(() => new PasswordHasher({ parallelization: 1.5 })).toThrow(TypeError);
    expect(() => new PasswordHasher({ maxConcurrent: 0 })).toThrow(/options\.maxConcurrent/);
  });

  it('handles the production cost (2^17) within scrypt maxmem', async () => {
    const prod = new PasswordHasher();
    const stored = await prod.hash('pw');
    expect(stored.startsWith('scrypt$131072$8$1$')).toBe(true);
    expect(await prod.verify('pw', stored)).toBe(true);
  });
});

describe('cost changes', () => {
  it('says when a record was hashed with other parameters than the configured ones', async () => {
    const hasher = new PasswordHasher({ cost: 1024 });
    expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false);
    expect(hasher.needsRehash(await new PasswordHasher({ cost: 2048 }).hash('pw'))).toBe(true);
    expect(hasher.needsRehash(await new PasswordHasher({ cost: 1024, blockSize: 4 }).hash('pw'))).toBe(true);
    expect(hasher.needsRehash('not a hash')).toBe(true);
  });

  it('checks unknown users at the parameters it is given, within the same bounds as stored hashes', async () => {
    let hashes = 0;
    const hasher = new PasswordHasher({ cost: 1024, onVerify: () => hashes++ });
    expect(await hasher.verify('pw', undefined, 'scrypt$2048$8$1')).toBe(false);
    // Out of bounds (a tampered record would be): the configured cost instead, never 2^30.
    expect(await hasher.verify('pw', undefined, 'scrypt$1073741824$8$1')).toBe(false);
    expect(await hasher.verify('pw', undefined, 'garbage')).toBe(false);
    expect(hashes).toBe(3);
  });
});

describe('client secrets', () => {
  it('are 256-bit random base64url, stored as SHA-256 and compared exactly', () => {
    const secret = newClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newClientSecret()).not.toBe(secret);
    const stored = hashClientSecret(secret);
    expect(stored).not.toContain(secret);
    expect(verifyClientSecret(secret, stored)).toBe(true);
    expect(verifyClientSecret(secret + 'x', stored)).toBe(false);
    expect(verifyClientSecret(secret, 'short')).toBe(false);
  });
});
