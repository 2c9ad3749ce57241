// Preloaded into each service process by the soak (`node --import memory-probe.mjs ...`): writes the
// process's memoryUsage() to $SOAK_MEM_DIR/<pid>.json every second, so the soak can report heap as
// well as RSS without any change to the services. Unref'd: never keeps a process alive.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SOAK_MEM_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const write = () => {
    try {
      writeFileSync(file, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
    } catch {
      // the soak's temp dir may be gone at shutdown
    }
  };
  write();
  setInterval(write, 1000).unref();
}
