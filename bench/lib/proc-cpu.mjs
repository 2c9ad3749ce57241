import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (user + system, µs) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function processCpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / clockTicks;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const clockTicks = 100;

/** Nanoseconds one thread has run on a CPU (first field of /proc/<pid>/task/<tid>/schedstat). */
function taskRunNs(pid, tid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/**
 * CPU time of a process's main thread (its JavaScript: the event loop, gRPC, the interceptor), µs, at
 * nanosecond resolution; NaN off Linux. Unlike process.cpuUsage() it leaves out GC helper threads and
 * the libuv pool, which run on the other core and do not slow the event loop down.
 */
export function mainThreadCpuUs(pid) {
  return taskRunNs(pid, pid) / 1000;
}

/** CPU time of every thread of a process, µs, from schedstat (NaN off Linux). */
export function allThreadsCpuUs(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const t = taskRunNs(pid, tid);
      if (Number.isFinite(t)) ns += t; // a thread may end between the listing and the read
    }
    return ns / 1000;
  } catch {
    return NaN;
  }
}
