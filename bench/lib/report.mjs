import { cpus } from 'node:os';
import { fmt } from './stats.mjs';

/** The machine a run was measured on (figures are only comparable on the same one). */
export function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** A plain-text table with a header row, columns padded to width (numbers right-aligned). */
export function table(headers, rows) {
  const cells = rows.map((r) => r.map((v) => (v === undefined ? '' : String(v))));
  const w = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const isNum = (s) => /^[-–\d.,×%]+( \S+)?$/.test(s) && s !== '';
  const line = (r) => r.map((v, i) => (isNum(v) && i > 1 ? v.padStart(w[i]) : v.padEnd(w[i]))).join(' | ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('-|-'), ...cells.map(line)].join('\n');
}

/** The same table as Markdown (for bench/README.md). */
export function markdownTable(headers, rows) {
  const esc = (v) => String(v ?? '').replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** `0.93×`, or – when not measured. */
export const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
export { fmt };
