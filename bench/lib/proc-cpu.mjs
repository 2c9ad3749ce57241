import { readFileSync } from 'node:fs';

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
