import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_VALUES, MAX_REVOCATION_EVENT_BYTES } from '@authmesh/interceptor';
import { signEvent } from '../revocation-signer.js';
import { batchChunks } from './apply-revocation.js';

const key = { kid: 'k'.repeat(43), alg: 'EdDSA', privateKey: generateKeyPairSync('ed25519').privateKey };

describe('batchChunks', () => {
  it('keeps every value, in order, and each signed batch within what interceptors accept', async () => {
    const shapes = [
      Array.from({ length: 2500 }, (_, i) => `user-${i}`),
      // Longest values, with characters JSON escapes (a quote: 2 bytes; a control character: 6).
      Array.from({ length: 200 }, (_, i) => `${i}"\u0001`.padEnd(512, 'é')),
    ];
    for (const values of shapes) {
      const chunks = batchChunks(values);
      expect(chunks.flat()).toEqual(values);
      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(MAX_BATCH_VALUES);
        const jws = await signEvent(
          {
            v: 2,
            kind: 'sub',
            values: chunk,
            at: 1_800_000_000,
            exp: 1_800_003_630,
            reason: 'r'.repeat(200),
          },
          key,
          'https://issuer.example.com/with/a/long/path',
        );
        expect(jws.length).toBeLessThanOrEqual(MAX_REVOCATION_EVENT_BYTES);
      }
    }
    // Short values fill a batch to its count; long ones to its bytes.
    expect(batchChunks(Array.from({ length: 2500 }, (_, i) => `u${i}`)).map((c) => c.length)).toEqual([
      1000, 1000, 500,
    ]);
    expect(batchChunks(Array.from({ length: 2500 }, (_, i) => `user-${i}`)).map((c) => c.length)).toEqual([
      1000, 928, 572,
    ]);
  });
});
