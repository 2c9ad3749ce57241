#!/usr/bin/env node
// authmesh benchmarks: `npm run bench` (build + this), `--quick` for a ~1-minute pass, `--only <suite>`.
// Prints one table and the targets, writes bench/results/latest.json. Benchmarks print; they never
// fail the build: a suite that cannot run is reported as skipped and the process exits 0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
import { runRevoke, revokeRows, revokeTargets } from './revoke/suite.mjs';

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
// Generous: the paired windows are fixed in number, and on a loaded machine each costs more set-up time.
const budgetMs = opts.quick ? 540_000 : 1_200_000;
const suites = {
  overhead: { run: runOverhead, rows: overheadRows, targets: overheadTargets },
  replay: { run: runReplay, rows: replayRows, targets: replayTargets },
  issuance: { run: runIssuance, rows: issuanceRows, targets: issuanceTargets },
  propagation: { run: runPropagation, rows: propagationRows, targets: propagationTargets },
  revoke: { run: runRevoke, rows: revokeRows, targets: revokeTargets },
};
const results = {
  machine: { ...machine(), loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))) },
  options: { quick: opts.quick, rounds: opts.rounds, durationMs: opts.durationMs },
  suites: {},
  targets: [],
  notes: [],
};
const outFile = resolve(opts.out ?? `${here}/results/latest.json`);

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  const headers = ['suite', 'case', 'c', 'per s', 'p50 ms', 'p99 ms', 'extra', 'ratio (same run)'];
  const rows = [];
  for (const [name, s] of Object.entries(suites)) {
    const r = results.suites[name];
    // A suite that failed or ran out of time still reports what it measured before.
    let sRows;
    let sTargets;
    try {
      sRows = r && s.rows(r);
      sTargets = r && s.targets(r);
    } catch {
      results.notes.push(`${name}: too little measured to report`);
    }
    if (sRows && sTargets) {
      rows.push(...sRows);
      results.targets.push(
        ...sTargets.map((t) => ({
          ...t,
          // With a spread (min–max over paired windows), met only when all of it clears the bar.
          met: !Number.isFinite(t.figure)
            ? null
            : t.spread
              ? t.higher
                ? t.spread.min >= t.bar
                : t.spread.max <= t.bar
              : t.higher
                ? t.figure >= t.bar
                : t.figure <= t.bar,
        })),
      );
    }
  }
  const m = results.machine;
  m.loadAverageAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  const head = `authmesh bench — ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.date}${opts.quick ? ' (quick)' : ''}; load average ${m.loadAverageAtStart.join(' ')} at start, ${m.loadAverageAtEnd.join(' ')} at end; overhead: medians of paired windows [min–max over pairs], other suites: medians of ${opts.rounds} rounds`;
  const tHeaders = ['target', 'figure [spread]', 'bar', 'result'];
  const u = (t) => (t.unit === '×' ? '×' : ` ${t.unit}`);
  const tRows = results.targets.map((t) => [
    t.target,
    `${fmt(t.figure)}${u(t)}${t.spread ? ` [${fmt(t.spread.min)}–${fmt(t.spread.max)}]` : ''}`,
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
    // The suite fills `into` as it goes, so a stop at the budget keeps what was measured.
    results.suites[name] = {};
    results.suites[name] = await suites[name].run({ ...opts, nats, log, into: results.suites[name] });
  } catch (err) {
    results.suites[name].error = String(err.message ?? err).split('\n')[0];
    results.notes.push(`${name} failed: ${results.suites[name].error}`);
    log(String(err.stack ?? err));
  }
}
clearTimeout(deadline);
await cleanupAll();
finish();
