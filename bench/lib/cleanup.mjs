/** Stop functions of everything the run started, so a deadline or a crash still stops them all. */
const stops = new Set();

/** Registers `stop` (async); returns a function that runs it once and unregisters it. */
export function onCleanup(stop) {
  let done;
  const run = () =>
    (done ??=
      (stops.delete(run),
      Promise.resolve()
        .then(stop)
        .catch(() => {})));
  stops.add(run);
  return run;
}

/** Runs every registered stop, newest first. */
export async function cleanupAll() {
  for (const run of [...stops].reverse()) await run();
}
