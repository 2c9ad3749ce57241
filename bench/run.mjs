#!/usr/bin/env node
// authmesh benchmarks: `npm run bench` (build + this), `--quick` for a ~1-minute pass, `--only <suite>`.
// Prints one table and the targets, writes bench/results/latest.json. Benchmarks print; they never
// fail the build: a suite that cannot run is reported as skipped and the process exits 0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, usage } from './lib/args.mjs';
import { cleanupAll, onCleanup } from './lib/cleanup.mjs';
import { machine, markdownTable, table } from './lib/report.mjs';
import { fmt } from './lib/stats.mjs';
import { runOverhead } from './overhead/suite.mjs';
import { overheadRows, overheadTargets } from './overhead/report.mjs';
import { runReplay, replayRows, replayTargets } from './replay/suite.mjs';
import { runIssuance, issuanceRows, issuanceTargets } from './issuance/suite.mjs';
import { runPropagation, propagationRows, propagationTargets } from './propagation/suite.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
if (opts.profile) process.env.BENCH_PROFILE_DIR = resolve(opts.profile);
if (opts.help) {
  console.log(usage);
  process.exit(0);
}

const log = (s) => process.stderr.write(`${s}\n`);
const started = Date.now();
// The whole run is bounded: past this, whatever was measured is written and everything stopped.
const budgetMs = opts.quick ? 150_000 : 600_000;
const suites = {
  overhead: { run: runOverhead, rows: overheadRows, targets: overheadTargets },
  replay: { run: runReplay, rows: replayRows, targets: replayTargets },
  issuance: { run: runIssuance, rows: issuanceRows, targets: issuanceTargets },
  propagation: { run: runPropagation, rows: propagationRows, targets: propagationTargets },
};
const results = {
  machine: machine(),
  options: { quick: opts.quick, rounds: opts.rounds, durationMs: opts.durationMs },
  suites: {},
  targets: [],
  notes: [],
};
const outFile = resolve(opts.out ?? `${here}/results/latest.json`);

function finish() {
  const headers = ['suite', 'case', 'c', 'per s', 'p50 ms', 'p99 ms', 'extra', 'ratio (same run)'];
  const rows = [];
  for (const [name, s] of Object.entries(suites)) {
    const r = results.suites[name];
    if (r && !r.error) {
      rows.push(...s.rows(r));
      results.targets.push(
        ...s.targets(r).map((t) => ({
          ...t,
          met: Number.isFinite(t.figure) ? (t.higher ? t.figure >= t.bar : t.figure <= t.bar) : null,
        })),
      );
    }
  }
  const m = results.machine;
  const head = `authmesh bench — ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.date}${opts.quick ? ' (quick)' : ''}; medians of ${opts.rounds} rounds`;
  const tHeaders = ['target', 'figure', 'bar', 'result'];
  const tRows = results.targets.map((t) => [
    t.target,
    `${fmt(t.figure)}${t.unit === '×' ? '×' : ` ${t.unit}`}`,
    `${t.higher ? '≥' : '≤'} ${t.bar}${t.unit === '×' ? '×' : ` ${t.unit}`}`,
    t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED',
  ]);
  const notes = [...results.notes, ...Object.values(results.suites).flatMap((r) => r.notes ?? [])];
  console.log(
    `\n${head}\n\n${table(headers, rows)}\n\n${table(tHeaders, tRows)}${notes.length ? `\n\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}` : ''}\n`,
  );
  results.markdown = `${head}\n\n${markdownTable(headers, rows)}\n\n${markdownTable(tHeaders, tRows)}\n`;
  results.elapsedMs = Date.now() - started;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    JSON.stringify(results, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n',
  );
  log(`wrote ${outFile} (${Math.round(results.elapsedMs / 1000)} s)`);
}

const deadline = setTimeout(async () => {
  results.notes.push(`run stopped at its ${budgetMs / 1000} s budget; later suites are missing`);
  await cleanupAll();
  finish();
  process.exit(0);
}, budgetMs);

let nats;
try {
  const { NatsServer } = await import('@authmesh/testing');
  nats = await NatsServer.start();
  onCleanup(() => nats.stop());
} catch (err) {
  results.notes.push(
    `no nats-server: suites that need NATS are skipped (${String(err.message).split('\n')[0]})`,
  );
}

for (const name of opts.only) {
  log(`== ${name}`);
  try {
    results.suites[name] = await suites[name].run({ ...opts, nats, log });
  } catch (err) {
    results.suites[name] = { error: String(err.message ?? err).split('\n')[0] };
    results.notes.push(`${name} failed: ${results.suites[name].error}`);
    log(String(err.stack ?? err));
  }
}
clearTimeout(deadline);
await cleanupAll();
finish();
