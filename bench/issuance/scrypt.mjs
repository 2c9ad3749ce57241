import { randomBytes, scrypt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** Latency of one bare node:crypto scrypt at cost N (r=8, p=1): the floor of a password login. */
export async function scryptMs(N) {
  const t0 = performance.now();
  await new Promise((resolve, reject) =>
    scrypt(
      'bench-password',
      randomBytes(16),
      32,
      { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 },
      (e) => (e ? reject(e) : resolve()),
    ),
  );
  return performance.now() - t0;
}
