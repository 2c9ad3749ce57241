import type { RevocationKind } from '@authmesh/interceptor';
import type { RevokeResponse } from '@authmesh/interceptor/proto';
import type { Logger } from 'pino';
import type { KeyManager } from '../keys/key-manager.types.js';
import type { SessionStore } from '../stores/sessions.js';
import { nowSec, type GrantSettings, type Revoker } from './deps.js';

/** Longest revocation value (jti, sid, sub, kid) an event carries, characters (../revocations.ts). */
export const MAX_REVOCATION_VALUE = 512;

/** What to revoke. */
export interface RevocationTarget {
  kind: RevocationKind;
  /** The jti, sid, sub or kid; '' for `all`. */
  value: string;
  /**
   * Unix seconds after which the event is moot; default now + the longest access TTL any replica may
   * mint with + skew (`settings.revocationTtlSec()`).
   */
  exp?: number;
}

/** What applying a revocation needs; the Revoke RPC and `authmesh revoke` both supply it. */
export interface RevocationDeps {
  sessions: SessionStore;
  keys: Pick<KeyManager, 'withdraw'>;
  revocations: Revoker;
  settings: Pick<GrantSettings, 'revocationTtlSec'>;
  log: Logger;
}

/**
 * The one path of a revocation from the auth side: mark KV state (sessions end, a key is withdrawn),
 * then publish the signed event and await its JetStream ack. Marking comes first because refreshes
 * consult KV, not the stream: no refresh can outlive the broadcast.
 */
export async function applyRevocation(
  deps: RevocationDeps,
  target: RevocationTarget,
  reason: string,
): Promise<RevokeResponse> {
  const now = nowSec();
  switch (target.kind) {
    case 'sid':
      await deps.sessions.revokeSession(target.value, now);
      break;
    case 'sub':
      await deps.sessions.revokeSubject(target.value, now);
      break;
    case 'all':
      await deps.sessions.revokeAll(now);
      break;
    case 'kid':
      await deps.keys.withdraw(target.value);
      break;
    case 'jti':
      break;
  }
  // The stored lifetimes, not this replica's: a token another replica minted with a longer TTL must
  // still meet its revocation (a shorter-configured replica would otherwise publish an exp too early).
  const exp = target.exp ?? now + deps.settings.revocationTtlSec();
  const { at, sequence } = await deps.revocations.revoke(target.kind, target.value, { exp, reason });
  deps.log.info({ kind: target.kind, at, sequence }, 'revoked');
  return { kind: target.kind, value: target.value, at, sequence };
}
