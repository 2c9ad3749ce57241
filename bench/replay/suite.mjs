// Suite 3: replay. Fills a fresh nats-server's revocation stream with 10k / 100k signed jti events
// (--replay-count: other counts, e.g. 1000000), and 1M revocations in batch events of 400 values
// (as `authmesh revoke --batch` publishes them), then times a brand-new process's revocation feed from
// creation to ready() (median over rounds), against a bare ordered-consumer replay of the same stream
// in the same run (the floor); heap per entry.
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { benchIssuer, newSigningKey } from '../lib/keys.mjs';
import { fmt, x } from '../lib/report.mjs';
import { median } from '../lib/stats.mjs';
import { publishRevocations } from './publish.mjs';

/**
 * Values per batch event in the batched case: about what `revoke --batch` puts in one for 22-character
 * jtis (its events stay under MAX_REVOCATION_EVENT_BYTES, 16 KiB: ~445 such values).
 */
const BATCH = 400;

const child = fileURLToPath(new URL('./child.mjs', import.meta.url));

/** Runs suite 3 on a nats-server of its own. */
export async function runReplay({ rounds, quick, replayCounts, replayBatchCounts, log }) {
  const { NatsServer } = await import('@authmesh/testing');
  const nats = await NatsServer.start();
  const key = newSigningKey();
  const result = { sizes: {}, notes: [] };
  try {
    // --quick: 10k only (preparing 100k signed events alone takes ~10 s); the 100k targets need a full run.
    const cases = [
      ...(replayCounts ?? (quick ? [10_000] : [10_000, 100_000])).map((count) => ({ count, batch: 1 })),
      ...(replayBatchCounts ?? [1_000_000]).map((count) => ({ count, batch: BATCH })),
    ];
    for (const { count, batch } of cases) {
      const label = batch > 1 ? `${count} in batches of ${batch}` : `${count}`;
      // Generous for a loaded machine: 1M events are ~400 MB to move.
      const timeoutMs = 60_000 + count / 10;
      const pub = await publishRevocations({
        natsUrl: nats.url,
        privateJwk: key.privateJwk,
        issuer: benchIssuer,
        count,
        batch,
      });
      log(
        `replay: ${label} events signed in ${Math.round(pub.signMs)} ms, published in ${Math.round(pub.publishMs)} ms (${pub.messages} in stream, ${fmt(pub.bytes / pub.messages)} B each)`,
      );
      // Within the stream's max age (6 min) from here: rounds that run later replay a shrinking stream.
      const filledAt = Date.now();
      const feed = [];
      const raw = [];
      for (let round = 0; round < rounds; round++) {
        for (const kind of ['feed', 'raw']) {
          const c = new Child(child, { execArgv: ['--expose-gc'] });
          try {
            const r = await c.call(
              kind,
              {
                natsUrl: nats.url,
                publicJwk: key.publicJwk,
                issuer: benchIssuer,
                expected: count,
                timeoutMs,
              },
              timeoutMs + 30_000,
            );
            (kind === 'feed' ? feed : raw).push(r);
            log(
              `  round ${round + 1} ${kind}: ready in ${Math.round(r.readyMs)} ms (CPU ${Math.round(r.cpuMs)} ms)${r.verifiedMs === undefined ? '' : `, all verified at ${Math.round(r.verifiedMs)} ms`}, ${r.entries} entries, ${fmt(r.heapBytes / count)} B/entry`,
            );
          } finally {
            await c.stop();
          }
        }
      }
      if (Date.now() - filledAt > 300_000)
        result.notes.push(`replay ${label}: the rounds took over 5 min; events near the stream's max age`);
      const size = (result.sizes[batch > 1 ? `${count}:${batch}` : count] = {
        count,
        batch,
        streamBytesPerEvent: pub.bytes / pub.messages,
        feed: {
          readyMs: median(feed.map((r) => r.readyMs)),
          cpuMs: median(feed.map((r) => r.cpuMs)),
          replayMs: median(feed.map((r) => r.replayMs)),
          verifiedMs: median(feed.map((r) => r.verifiedMs ?? Infinity)),
          entries: median(feed.map((r) => r.entries)),
          pending: median(feed.map((r) => r.pending)),
          dropped: median(feed.map((r) => r.dropped)),
          bytesPerEntry: median(feed.map((r) => r.heapBytes / count)),
        },
        raw: {
          readyMs: median(raw.map((r) => r.readyMs)),
          cpuMs: median(raw.map((r) => r.cpuMs)),
          bytesPerEntry: median(raw.map((r) => r.heapBytes / count)),
        },
      });
      log(
        `replay ${label}: feed ready ${Math.round(size.feed.readyMs)} ms (CPU ${Math.round(size.feed.cpuMs)} ms), floor (bare ordered consumer) ${Math.round(size.raw.readyMs)} ms (CPU ${Math.round(size.raw.cpuMs)} ms), ratio ${x(size.feed.readyMs / size.raw.readyMs)}, ${fmt(size.feed.bytesPerEntry)} B/entry (medians of ${rounds})`,
      );
      if (feed.some((r) => r.entries !== count))
        result.notes.push(
          `replay ${label}: the feed held ${feed.map((r) => r.entries).join('/')} entries, expected ${count}`,
        );
    }
    return result;
  } finally {
    await nats.stop();
  }
}

/** Table rows of suite 3. */
export function replayRows(r) {
  const rows = [];
  for (const s of Object.values(r.sizes)) {
    const count = s.count;
    const n =
      (count >= 1e6 ? `${count / 1e6}M` : `${count / 1000}k`) +
      (s.batch > 1 ? ` in ${fmt(s.messages ?? count / s.batch)} batch events` : '');
    rows.push([
      'replay',
      `bare ordered consumer, ${n}${s.batch > 1 ? '' : ' events'} (baseline)`,
      1,
      fmt((Number(count) / s.raw.readyMs) * 1000),
      fmt(s.raw.readyMs),
      '',
      `${fmt(s.raw.bytesPerEntry)} B/entry`,
      'baseline',
    ]);
    rows.push([
      'replay',
      `authmesh feed ready, ${n} revocations`,
      1,
      fmt((Number(count) / s.feed.readyMs) * 1000),
      fmt(s.feed.readyMs),
      '',
      `${fmt(s.feed.bytesPerEntry)} B/entry, ${fmt(s.feed.pending)} pending at ready, all verified ${s.feed.verifiedMs === Infinity ? 'not within 30 s' : `at ${fmt(s.feed.verifiedMs)} ms`}`,
      `${x(s.feed.readyMs / s.raw.readyMs)} baseline time`,
    ]);
  }
  return rows;
}

/** Targets of suite 3: 100k ready in ≤ 1 s (issue 11), 1M in ≤ 5 s (issue 15, --replay-count 1000000). */
export function replayTargets(r) {
  const targets = [];
  for (const [key, label, bar] of [
    ['100000', '100k', 1],
    ['1000000', '1M', 5],
    [`1000000:${BATCH}`, `1M in batch events of ${BATCH}`, 5],
  ]) {
    const s = r.sizes[key];
    if (!s) continue;
    targets.push(
      {
        target: `${label} revocations replayed (new feed ready) in ≤ ${bar} s`,
        figure: s.feed.readyMs / 1000,
        bar,
        higher: false,
        unit: 's',
      },
      {
        target: `≤ 100 bytes per revoked entry (heap, ${label})`,
        figure: s.feed.bytesPerEntry,
        bar: 100,
        higher: false,
        unit: 'B',
      },
    );
  }
  return targets;
}
