// A bounded background call load for the fault suites: N loops calling a function until stopped,
// recording every outcome with its time, so a test can say exactly what happened in each window.
/** One recorded call. */
export interface Sample {
  t: number;
  code: number;
}

/** Runs `loops` concurrent loops of `fn` until `stop()`; every loop waits `pauseMs` between calls. */
export function startLoad(
  fn: (i: number) => Promise<number>,
  loops: number,
  pauseMs = 5,
): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const workers = Array.from({ length: loops }, async (_, i) => {
    while (running) {
      const code = await fn(i);
      samples.push({ t: performance.now(), code });
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    samples,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Counts codes of the samples within [from, to). */
export function codesBetween(samples: Sample[], from: number, to: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of samples) if (s.t >= from && s.t < to) m.set(s.code, (m.get(s.code) ?? 0) + 1);
  return m;
}

/** "OK 120, UNAVAILABLE 3" */
export const show = (m: Map<number, number>, names: Record<number, string>): string =>
  [...m].map(([c, n]) => `${names[c] ?? c} ${n}`).join(', ') || 'none';
