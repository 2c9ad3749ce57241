/** Median of a list of numbers (NaN when empty). */
export function median(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** The q-quantile (0..1) of a list, nearest-rank on a sorted copy (NaN when empty). */
export function quantile(values, q) {
  const xs = Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
  if (xs.length === 0) return NaN;
  const i = Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1));
  return xs[i];
}

/** p50 and p99 of a list. */
export function percentiles(values) {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
}

/** a / b, NaN when either is missing. */
export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

/** Rounds for printing: integers above 100, 3 significant digits below. */
export function fmt(v, unit = '') {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  const s = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();
  return unit ? `${s} ${unit}` : s;
}
