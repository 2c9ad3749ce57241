import { MAX_BATCH_VALUES, MAX_REVOCATION_EVENT_BYTES, type RevocationKind } from '@authmesh/interceptor';
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

/**
 * Bytes of JSON (UTF-8) a batch's values may take: the compact JWS base64url-encodes the payload (4/3),
 * and header, instants, reason (≤ 200) and signature take well under 1.5 KiB of the interceptors' bound.
 */
const BATCH_VALUES_JSON = Math.floor(((MAX_REVOCATION_EVENT_BYTES - 1536) * 3) / 4);

/** Splits values into batches that each fit one event (count and bytes), in order. */
export function batchChunks(values: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const value of values) {
    const cost = Buffer.byteLength(JSON.stringify(value)) + 1;
    if (chunk.length > 0 && (chunk.length === MAX_BATCH_VALUES || size + cost > BATCH_VALUES_JSON)) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(value);
    size += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * {@link applyRevocation} for many values of one kind under ONE signed batch event: every session
 * marked in KV (all in flight), then the event published and acked. The values come from
 * {@link batchChunks}. One answer for all (same instant and sequence).
 */
export async function applyRevocationBatch(
  deps: RevocationDeps,
  kind: 'jti' | 'sid' | 'sub',
  values: readonly string[],
  reason: string,
): Promise<{ at: number; sequence: number }> {
  if (!deps.revocations.revokeBatch) throw new TypeError('revocations do not publish batch events');
  const now = nowSec();
  if (kind === 'sid') await Promise.all(values.map((v) => deps.sessions.revokeSession(v, now)));
  if (kind === 'sub') await Promise.all(values.map((v) => deps.sessions.revokeSubject(v, now)));
  const exp = now + deps.settings.revocationTtlSec();
  const done = await publishSplitting(deps.revocations.revokeBatch.bind(deps.revocations), kind, values, {
    exp,
    reason,
  });
  deps.log.info({ kind, count: values.length, at: done.at, sequence: done.sequence }, 'revoked');
  return done;
}

/**
 * Publishes one batch event, or, when its signed form would be over the interceptors' bound (a reason
 * or issuer longer than batchChunks allows for), its halves in turn: the answer is the last one's.
 */
async function publishSplitting(
  revokeBatch: NonNullable<RevocationDeps['revocations']['revokeBatch']>,
  kind: 'jti' | 'sid' | 'sub',
  values: readonly string[],
  options: { exp: number; reason: string },
): Promise<{ at: number; sequence: number }> {
  try {
    return await revokeBatch(kind, values, options);
  } catch (err) {
    if (!(err instanceof RangeError) || values.length < 2) throw err;
    const half = values.length >> 1;
    await publishSplitting(revokeBatch, kind, values.slice(0, half), options);
    return publishSplitting(revokeBatch, kind, values.slice(half), options);
  }
}
