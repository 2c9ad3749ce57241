import { join } from 'node:path';

/**
 * Node flags that write a V8 CPU profile of a bench process into `$BENCH_PROFILE_DIR/<role>/` when
 * `--profile` was given (read them with `node bench/lib/profile-summary.mjs FILE`); none otherwise.
 * Profiles are written when the process exits normally (IPC `exit`, or SIGTERM for the services).
 */
export function profileArgs(role) {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, role)}`] : [];
}
