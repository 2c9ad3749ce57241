// Paired short windows: every variant is measured once per pass, passes repeat, and each pass starts
// with a different variant (the order rotates by one), so neither drift on a shared machine nor being
// run first favours a variant. Ratios are taken within a pass (a pair) and reported with their spread.
import { median } from './stats.mjs';

/** Default number of passes: ratios need enough pairs for their spread to mean something. */
export const MIN_PAIRS = 16;

/**
 * Runs `measure(variant, pass)` for every variant, `pairs` times, the order rotated by one each pass.
 * Resolves with `{ [variant.name]: [sample of pass 0, sample of pass 1, …] }`.
 */
export async function pairedWindows(variants, pairs, measure) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let p = 0; p < pairs; p++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + p) % variants.length];
      samples[v.name][p] = await measure(v, p);
    }
  }
  return samples;
}

/** Median, min and max of the finite values (NaN when none). */
export function spread(values) {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Per-pass `f(a[p], b[p])` of two variants' samples, as a spread. */
export function perPair(a, b, f) {
  if (!a || !b) return spread([]);
  return spread(a.map((s, p) => (b[p] ? f(s, b[p]) : NaN)));
}
