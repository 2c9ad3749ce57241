import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Kek } from './kek.js';

describe('Kek (AES-256-GCM envelope)', () => {
  const kek = new Kek(randomBytes(32));

  it('round-trips and uses a fresh IV each time', () => {
    const a = kek.seal('kid-1', '{"d":"secret"}');
    const b = kek.seal('kid-1', '{"d":"secret"}');
    expect(a).not.toBe(b);
    expect(kek.open('kid-1', a)).toBe('{"d":"secret"}');
    expect(a).not.toContain('secret');
  });

  it('detects tampering, a swapped kid (AAD) and a wrong KEK', () => {
    const sealed = kek.seal('kid-1', 'private jwk');
    const bytes = Buffer.from(sealed, 'base64url');
    for (const i of [0, 13, bytes.length - 1]) {
      const t = Buffer.from(bytes);
      t[i]! ^= 1;
      expect(() => kek.open('kid-1', t.toString('base64url'))).toThrow(
        expect.objectContaining({ code: 'ERR_KEK' }),
      );
    }
    expect(() => kek.open('kid-2', sealed)).toThrow(/does not decrypt/);
    expect(() => new Kek(randomBytes(32)).open('kid-1', sealed)).toThrow(/does not decrypt/);
    expect(() => kek.open('kid-1', 'AAAA')).toThrow(/does not decrypt/);
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => new Kek(randomBytes(16))).toThrow(TypeError);
  });

  it('derives one stable key per purpose, unrelated to the KEK and to other purposes', () => {
    const bytes = randomBytes(32);
    const a = new Kek(bytes).deriveKey('refresh-successor');
    expect(a).toHaveLength(32);
    expect(new Kek(bytes).deriveKey('refresh-successor')).toEqual(a);
    expect(new Kek(bytes).deriveKey('records')).not.toEqual(a);
    expect(new Kek(randomBytes(32)).deriveKey('refresh-successor')).not.toEqual(a);
    expect(a).not.toEqual(bytes);
  });
});
