import { fmt, x } from '../lib/report.mjs';

/** A signed difference: `+4.5` / `−2.1`. */
const delta = (v) => (Number.isFinite(v) ? `${v < 0 ? '−' : '+'}${fmt(Math.abs(v))}` : '–');

/** One overhead row; grpc-js and h2load rounds report the same figures and differ in label and load. */
function overheadRow(suite, name, f, load, problems) {
  const rel =
    name === 'none'
      ? 'baseline'
      : `${x(f.vsNone)} none${Number.isFinite(f.vsPublic) && name !== 'public' ? `, ${x(f.vsPublic)} public` : ''}`;
  const cpu = `${fmt(f.cpuPerCall)} µs${name === 'none' ? '' : ` (${delta(f.cpuOverNone)})`}`;
  return [suite, f.label, load, fmt(f.rate), fmt(f.p50), fmt(f.p99), cpu + problems, rel];
}

/** Table rows of suite 1: suite | case | c | calls/s | p50 | p99 | server CPU | ratio. */
export function overheadRows(r) {
  const rows = [];
  for (const [name, v] of Object.entries(r.variants)) {
    for (const c of r.concurrencies) {
      const f = { ...v.byConcurrency[c], label: v.label };
      rows.push(overheadRow('overhead grpc-js', name, f, c, f.errors ? ` ${f.errors} errors` : ''));
    }
  }
  for (const [name, f] of Object.entries(r.h2load)) {
    rows.push(
      overheadRow('overhead h2load', name, f, `1×${f.streams}`, f.rejected ? ` ${f.rejected} rejected` : ''),
    );
  }
  const v = r.verify;
  const base = v.cryptoVerify;
  const verifyRow = (key, label, c) => {
    const f = v[key];
    if (!f) return;
    const rel =
      key === 'cryptoVerify'
        ? 'baseline'
        : `${x(f.rate / base.rate)} crypto/s, ${x(base.cpuUs / f.cpuUs)} per CPU-s`;
    rows.push(['verify in-process', label, c, fmt(f.rate), '', '', `${fmt(f.cpuUs)} µs CPU/op`, rel]);
  };
  verifyRow('cryptoVerify', 'node:crypto Ed25519 verify, signature only', 1);
  verifyRow('joseVerify', 'jose jwtVerify, distinct tokens', 1);
  verifyRow('authmeshCold', 'authmesh verify(), distinct tokens (cold)', 1);
  verifyRow('authmeshCold64', 'authmesh verify(), distinct tokens (cold)', 64);
  verifyRow('authmeshWarm', 'authmesh verify(), same token (warm)', 1);
  return rows;
}

/** Targets of suite 1: figure, target, met. */
export function overheadTargets(r) {
  const t = [];
  const g = (name) => r.variants[name]?.byConcurrency[64];
  const warm = g('warm');
  if (warm) {
    t.push({
      target: 'warm token ≥ 0.95 × public method, c=64 (grpc-js client)',
      figure: warm.vsPublic,
      bar: 0.95,
      higher: true,
      unit: '×',
    });
    t.push({
      target: 'warm token ≥ 0.90 × no interceptor, c=64 (grpc-js client)',
      figure: warm.vsNone,
      bar: 0.9,
      higher: true,
      unit: '×',
    });
  }
  const hw = r.h2load.warm;
  if (hw) {
    t.push({
      target: 'warm token ≥ 0.95 × public method, 64 streams (h2load)',
      figure: hw.vsPublic,
      bar: 0.95,
      higher: true,
      unit: '×',
    });
    t.push({
      target: 'warm token ≥ 0.90 × no interceptor, 64 streams (h2load)',
      figure: hw.vsNone,
      bar: 0.9,
      higher: true,
      unit: '×',
    });
    // The same targets in server CPU per call (calls per server CPU-second): when the server is the
    // bottleneck, throughput is its inverse, and it is far less moved by other load on the machine.
    const hp = r.h2load.public;
    const hn = r.h2load.none;
    if (hp)
      t.push({
        target: 'warm token ≥ 0.95 × public method, calls per server CPU-s (h2load)',
        figure: hp.cpuPerCall / hw.cpuPerCall,
        bar: 0.95,
        higher: true,
        unit: '×',
      });
    if (hn)
      t.push({
        target: 'warm token ≥ 0.90 × no interceptor, calls per server CPU-s (h2load)',
        figure: hn.cpuPerCall / hw.cpuPerCall,
        bar: 0.9,
        higher: true,
        unit: '×',
      });
    const hpp = r.h2load.publicPadded;
    if (hpp)
      t.push({
        target:
          '(control) warm token ≥ 0.95 × public method sent a token-sized header, calls per server CPU-s',
        figure: hpp.cpuPerCall / hw.cpuPerCall,
        bar: 0.95,
        higher: true,
        unit: '×',
      });
  }
  if (r.verify.authmeshCold) {
    // Judged per CPU-second (CPU µs per op, all threads), which the noise of a shared machine moves
    // least and a thread pool cannot inflate; the wall-clock ratios are in the table.
    t.push({
      target: 'cold path ≥ 0.8 × node:crypto Ed25519 verify rate (per CPU-second)',
      figure: r.verify.cryptoVerify.cpuUs / r.verify.authmeshCold.cpuUs,
      bar: 0.8,
      higher: true,
      unit: '×',
    });
  }
  return t;
}
