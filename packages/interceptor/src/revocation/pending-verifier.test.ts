import { afterEach, describe, expect, it } from 'vitest';
import { PendingVerifier } from './pending-verifier.js';
import { RevocationSet } from './revocation-set.js';

describe('PendingVerifier', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('spends its per-second allowance on events, not on the values of one batch', async () => {
    const set = new RevocationSet({ sweepIntervalMs: 0 });
    for (let seq = 1; seq <= 3; seq++)
      set.addPendingBatch(
        'jti',
        Array.from({ length: 400 }, (_, i) => `s${seq}-${i}`),
        seq,
      );
    const checked: number[] = [];
    // 30/s is 3 checks per 100 ms tick: one for each batch, since one check settles every value of its batch.
    const verifier = new PendingVerifier(
      set,
      async (e) => void checked.push(e.seq),
      30,
      () => true,
    );
    closers.push(
      () => verifier.stop(),
      () => set.close(),
    );
    verifier.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(checked).toEqual([1, 2, 3]);
  });
});
