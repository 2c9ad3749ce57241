import type { KV } from 'nats';
import type { AuthConfig } from '../config.js';
import { readDevKek } from '../keys/dev-kek.js';
import { recordIntegrity, type RecordIntegrity } from '../stores/record-mac.js';
import type { CommandIo } from './command.js';

/**
 * The KEK a CLI command works under: the configured one (`AUTHMESH_KEK` / `AUTHMESH_KEK_FILE`), or in
 * development the one the auth service stored. Never generates one (../keys/dev-kek.ts `readDevKek`).
 */
export function cliKek(config: AuthConfig, keysBucket: KV, io: CommandIo): Promise<Buffer> {
  return config.kek !== undefined
    ? Promise.resolve(config.kek)
    : readDevKek(keysBucket, (m) => io.stderr.write(m));
}

/**
 * The record MAC of the CLI (../stores/record-mac.ts) under `kek`: records it writes are sealed like the
 * service's; a record it reads that fails is refused and named on stderr.
 */
export function cliRecords(kek: Uint8Array, io: CommandIo): RecordIntegrity {
  return recordIntegrity(kek, ({ bucket, key }) =>
    io.stderr.write(
      `authmesh: refused record ${bucket}/${key}: it fails its integrity check (not written under this KEK)\n`,
    ),
  );
}
