import type { AuthConfig } from './config.js';
import { entryJson } from './stores/kv.js';
import type { RecordBucket } from './stores/record-mac.js';

/** The KV key (in `AUTHMESH_KEYS`) where a running service records the issuer it signs with. */
export const ISSUER_KEY = 'issuer';

/** Records the service's effective issuer (it follows the bound HTTP address when `AUTHMESH_ISSUER` is unset). */
export async function recordIssuer(kv: RecordBucket, issuer: string): Promise<void> {
  await kv.put(ISSUER_KEY, Buffer.from(JSON.stringify(issuer), 'utf8'));
}

/**
 * The issuer a CLI command must sign with (revocation events): `AUTHMESH_ISSUER` when set; otherwise the one
 * the running service recorded (it may have bound port 0), else the configured default. `kv` is the
 * authenticated keys bucket: a recorded issuer a NATS writer changed (which would make the events
 * unverifiable, so a revocation would silently not apply) is refused.
 */
export async function resolveIssuer(config: AuthConfig, kv: RecordBucket): Promise<string> {
  if (!config.issuerFollowsHttp) return config.issuer;
  const recorded = entryJson<unknown>(await kv.get(ISSUER_KEY));
  return typeof recorded === 'string' && recorded !== '' ? recorded : config.issuer;
}
