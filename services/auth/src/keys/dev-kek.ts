import { randomBytes } from 'node:crypto';
import type { KV } from 'nats';
import { decodeKek } from '../config.js';

/** The KV key (in `AUTHMESH_KEYS`) of the development-only KEK. */
export const DEV_KEK_KEY = 'dev-kek';

/**
 * Development only: the KEK generated once and kept in the keys bucket beside the keys it protects (so it
 * protects nothing against anyone who can read NATS). Replicas racing on first start: one create wins,
 * the others read it. Writes a loud warning through `warn`.
 */
export async function loadDevKek(kv: KV, warn: (message: string) => void): Promise<Buffer> {
  let entry = await kv.get(DEV_KEK_KEY);
  if (!entry || entry.operation !== 'PUT') {
    try {
      await kv.create(DEV_KEK_KEY, Buffer.from(randomBytes(32).toString('base64url')));
    } catch {
      // Lost the race (or it exists): read the winner's below.
    }
    entry = await kv.get(DEV_KEK_KEY);
  }
  if (!entry || entry.operation !== 'PUT')
    throw new Error('development KEK could not be stored in AUTHMESH_KEYS');
  warn(DEV_KEK_WARNING);
  return decodeKek(entry.string(), 'AUTHMESH_KEYS/dev-kek');
}

/**
 * Development only, for the CLI: the KEK the auth service generated and stored, never a new one. A CLI
 * run must not be what decides that a store runs under a development KEK (it could be a production
 * store reached from a shell that forgot AUTHMESH_KEK), so without a stored one it fails, naming
 * AUTHMESH_KEK.
 */
export async function readDevKek(kv: KV, warn: (message: string) => void): Promise<Buffer> {
  const entry = await kv.get(DEV_KEK_KEY);
  if (!entry || entry.operation !== 'PUT') {
    throw new Error(
      'AUTHMESH_KEK: not set, and no development KEK is stored in AUTHMESH_KEYS: set AUTHMESH_KEK (or AUTHMESH_KEK_FILE) ' +
        "to the auth service's KEK, or, in development, start the auth service once with AUTHMESH_ENV=development (it generates one; the CLI never does)",
    );
  }
  warn(DEV_KEK_WARNING);
  return decodeKek(entry.string(), 'AUTHMESH_KEYS/dev-kek');
}

const DEV_KEK_WARNING =
  '\n*** AUTHMESH_ENV=development: signing keys are encrypted under a KEK stored in NATS (AUTHMESH_KEYS/dev-kek). ***\n' +
  '*** Anyone who can read NATS can sign tokens. Never run like this in production: set AUTHMESH_KEK.      ***\n';
