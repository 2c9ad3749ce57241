import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_VALUES, MAX_REVOCATION_EVENT_BYTES } from '@authmesh/interceptor';
import { signEvent } from '../revocation-signer.js';
import { applyRevocationBatch, batchChunks, type RevocationDeps } from './apply-revocation.js';

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

describe('applyRevocationBatch', () => {
  it('never publishes an event over the bound: a long reason splits a batch instead', async () => {
    const published: { values: readonly string[]; bytes: number }[] = [];
    const revocations = {
      revoke: async () => ({ at: 0, sequence: 0 }),
      revokeBatch: async (
        kind: 'jti' | 'sid' | 'sub',
        values: readonly string[],
        o: { exp: number; reason: string },
      ) => {
        const jws = await signEvent(
          { v: 2, kind, values: [...values], at: 1_800_000_000, exp: o.exp, reason: o.reason },
          key,
          'https://issuer.example.com',
        );
        published.push({ values, bytes: jws.length });
        return { at: 1_800_000_000, sequence: published.length };
      },
    };
    const marked: string[] = [];
    const deps = {
      sessions: { revokeSubject: async (v: string) => void marked.push(v) },
      revocations,
      settings: { revocationTtlSec: () => 3600 },
      log: { info: () => {} },
    } as unknown as RevocationDeps;
    // Chunked for a short reason; 200 control characters take 1,200 bytes of JSON (\u0001 each).
    const values = batchChunks(Array.from({ length: 2000 }, (_, i) => `subject-${i}`.padEnd(40, 'x')))[0]!;
    const done = await applyRevocationBatch(deps, 'sub', values, '\u0001'.repeat(200));
    expect(published.length).toBeGreaterThan(1);
    expect(published.flatMap((p) => p.values)).toEqual(values);
    for (const p of published) expect(p.bytes).toBeLessThanOrEqual(MAX_REVOCATION_EVENT_BYTES);
    expect(done.sequence).toBe(published.length);
    expect(marked).toEqual(values);
    // One value alone over the bound is an error, not an event no interceptor would apply.
    await expect(applyRevocationBatch(deps, 'sub', ['x'], 'r'.repeat(20_000))).rejects.toThrow(RangeError);
  });
});
