// Preloaded into each service process by the soak (`node --import memory-probe.mjs ...`): writes the
// process's memoryUsage() to $SOAK_MEM_DIR/<pid>.json every second, so the soak can report heap as
// well as RSS without any change to the services. Unref'd: never keeps a process alive.
//
// With $SOAK_HEAPSNAPSHOT_DIR and $SOAK_HEAPSNAPSHOT_EVERY_S it also writes a heap snapshot every that
// many seconds (<pid>-<seconds since start>.heapsnapshot), to compare object counts between snapshots
// and find what grows. A snapshot stops the process for seconds: for investigation runs only.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

const dir = process.env.SOAK_MEM_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const tmp = `${file}.tmp`;
  const write = () => {
    try {
      // Written aside and renamed, so the soak never reads half a file.
      writeFileSync(tmp, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
      renameSync(tmp, file);
    } catch {
      // the soak's temp dir may be gone at shutdown
    }
  };
  write();
  setInterval(write, 1000).unref();
}

const snapshotDir = process.env.SOAK_HEAPSNAPSHOT_DIR;
const every = Number(process.env.SOAK_HEAPSNAPSHOT_EVERY_S);
if (snapshotDir && Number.isFinite(every) && every > 0) {
  const t0 = Date.now();
  setInterval(() => {
    const s = Math.round((Date.now() - t0) / 1000);
    try {
      writeHeapSnapshot(join(snapshotDir, `${process.pid}-${String(s).padStart(5, '0')}.heapsnapshot`));
    } catch (err) {
      console.error('memory-probe: heap snapshot failed:', err);
    }
  }, every * 1000).unref();
}
