#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and inclusive time of
// the functions in our code, so "where does the time go" can be answered from a run.
// usage: node bench/lib/profile-summary.mjs FILE.cpuprofile [--top N] [--match substring]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const top = Number(args[args.indexOf('--top') + 1]) || 25;
const match = args.includes('--match') ? args[args.indexOf('--match') + 1] : '/work/main/packages/';
if (!file) {
  console.error('usage: node bench/lib/profile-summary.mjs FILE.cpuprofile [--top N] [--match substring]');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++)
  dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const incl = new Map();
for (const [id, t] of dt) {
  const n = byId.get(id);
  self.set(name(n), (self.get(name(n)) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled\n\nself time, top ${top}:`);
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log(`\ninclusive time of functions matching "${match}", top ${top}:`);
for (const [k, t] of [...incl]
  .filter(([k]) => k.includes(match))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(t)}  ${k}`);
