import { createHash, type KeyObject } from 'node:crypto';
import { verifyCompactSignature, verifyCompactSignatureAsync } from '../verify/signature.js';
import { VerdictCache } from './verdict-cache.js';

/** Events checked less than this far apart are a burst, ms. */
const BURST_GAP_MS = 2;
let poolChecksInFlight = 0;
let lastInlineCheckAt = -Infinity;

/**
 * Recent signature checks of this process, by algorithm, public key and event, shared by every feed in
 * it: a process with several feeds (several servers, audiences or issuers) checks each event once, not
 * once per feed. The verdict is the math's (same bytes, same public key, same answer), so sharing it
 * across feeds with their own key stores changes nothing but the cost. Bounded, and kept a minute.
 */
const recentChecks = new VerdictCache<Promise<boolean>>(1024, 60_000);

/** A public key's identity across key objects: its SPKI, hashed once per key object. */
const keyIds = new WeakMap<KeyObject, string>();
function keyId(key: KeyObject): string {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
    keyIds.set(key, id);
  }
  return id;
}

/**
 * Checks a revocation event's signature (`jws` compact, `lastDot` its second dot) under `key`, once per
 * process (see recentChecks). A single live revocation is checked at once on this thread (a thread-pool
 * hop would add a wake-up to its propagation time on a busy machine); a burst (a bulk revocation, a
 * forged flood) goes to the thread pool, so it does not hold the event loop and every call waiting on it.
 */
export function checkEventSignature(
  alg: string,
  key: KeyObject,
  jws: string,
  lastDot: number,
): Promise<boolean> {
  const id = `${alg}\0${keyId(key)}\0${jws}`;
  const known = recentChecks.get(id);
  if (known !== undefined) return known;
  const check = checkNow(alg, key, jws, lastDot);
  recentChecks.set(id, check);
  return check;
}

function checkNow(alg: string, key: KeyObject, jws: string, lastDot: number): Promise<boolean> {
  const now = performance.now();
  if (poolChecksInFlight === 0 && now - lastInlineCheckAt > BURST_GAP_MS) {
    lastInlineCheckAt = now;
    return Promise.resolve(verifyCompactSignature(alg, key, jws, lastDot));
  }
  poolChecksInFlight++;
  return verifyCompactSignatureAsync(alg, key, jws, lastDot).finally(() => poolChecksInFlight--);
}
