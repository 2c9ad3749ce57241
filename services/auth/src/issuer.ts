import type { KV } from 'nats';
import type { AuthConfig } from './config.js';

/** The KV key (in `AUTHMESH_KEYS`) where a running service records the issuer it signs with. */
export const ISSUER_KEY = 'issuer';

/** Records the service's effective issuer (it follows the bound HTTP address when `AUTHMESH_ISSUER` is unset). */
export async function recordIssuer(kv: KV, issuer: string): Promise<void> {
  await kv.put(ISSUER_KEY, Buffer.from(issuer, 'utf8'));
}

/**
 * The issuer a CLI command must sign with (revocation events): `AUTHMESH_ISSUER` when set; otherwise the one
 * the running service recorded (it may have bound port 0), else the configured default.
 */
export async function resolveIssuer(config: AuthConfig, kv: KV): Promise<string> {
  if (!config.issuerFollowsHttp) return config.issuer;
  const entry = await kv.get(ISSUER_KEY);
  return entry && entry.operation === 'PUT' && entry.length > 0 ? entry.string() : config.issuer;
}
