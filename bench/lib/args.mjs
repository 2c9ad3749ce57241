/** The suites, in the order they run. */
export const suites = ['overhead', 'replay', 'issuance', 'propagation', 'revoke'];

/**
 * Parses `node bench/run.mjs [--quick] [--only <suite>[,<suite>]] [--rounds N] [--duration S]`.
 * Throws a TypeError naming the bad option.
 */
export function parseArgs(argv) {
  const opts = { quick: false, only: [...suites], rounds: undefined, durationMs: undefined, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') {
      const v = argv[++i];
      const names = (v ?? '').split(',').filter(Boolean);
      const bad = names.find((n) => !suites.includes(n));
      if (names.length === 0 || bad)
        throw new TypeError(`--only: expected one of ${suites.join(', ')}, got ${v}`);
      opts.only = names;
    } else if (a === '--rounds') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 20) throw new TypeError('--rounds: an integer 1-20');
      opts.rounds = n;
    } else if (a === '--duration') {
      const s = Number(argv[++i]);
      if (!(s > 0 && s <= 30)) throw new TypeError('--duration: seconds per round, 0 < s <= 30');
      opts.durationMs = s * 1000;
    } else if (a === '--out') {
      opts.out = argv[++i];
      if (!opts.out) throw new TypeError('--out: a file path');
    } else if (a === '--profile') {
      opts.profile = argv[++i];
      if (!opts.profile) throw new TypeError('--profile: a directory for .cpuprofile files');
    } else if (a === '--replay-count') {
      const v = argv[++i];
      const counts = (v ?? '').split(',').map(Number);
      if (counts.length === 0 || !counts.every((n) => Number.isInteger(n) && n >= 1000 && n <= 2_000_000))
        throw new TypeError(`--replay-count: event counts 1000-2000000, comma-separated, got ${v}`);
      opts.replayCounts = counts;
    } else if (a === '--help' || a === '-h') {
      opts.help = true;
    } else throw new TypeError(`unknown option ${a}`);
  }
  opts.rounds ??= 3;
  opts.durationMs ??= opts.quick ? 500 : 2000;
  return opts;
}

export const usage = `usage: node bench/run.mjs [--quick] [--only ${suites.join('|')}[,...]] [--rounds N] [--duration S] [--replay-count N[,N]] [--out FILE]
  --quick      ~1.5 minute pass: 0.5 s rounds, c=64 only, 10k replay only, fewer trials
  --only       run only the named suites
  --rounds     rounds per figure (median over them; default 3)
  --duration   seconds per load round (default 2, quick 0.5)
  --replay-count  events replayed (default 10000,100000; quick 10000), e.g. 1000000 for the 1M target
  --out        JSON output (default bench/results/latest.json)
  --profile    write a CPU profile of every bench process and service into DIR/<role>/ (node --cpu-prof)`;
