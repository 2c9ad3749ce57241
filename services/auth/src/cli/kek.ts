import type { KV } from 'nats';
import type { AuthConfig } from '../config.js';
import { readDevKek } from '../keys/dev-kek.js';
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
