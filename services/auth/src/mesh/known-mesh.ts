import type { NatsConnection } from 'nats';
import { MAX_ANNOUNCE_PERIOD_MS } from '@authmesh/interceptor';
import type { AnnouncementVerifier } from './announcement-keys.js';
import { LiveSet } from './live-set.js';
import { fetchRoster } from './roster.js';

/** How long a command waits for an auth replica's roster, ms. */
const ROSTER_TIMEOUT_MS = 1000;

/**
 * A live set for a command that talks to NATS (not to the gRPC API): subscribed to the announcements,
 * seeded from a running auth replica's roster, or, when none answers, from one full announcement
 * period of listening (every instance announces at least that often). `source` says which.
 *
 * `verifier` (a command holding the KEK: `revoke --wait`): roster entries and announcements are checked
 * like the auth service checks them, a roster reply being no more trusted than any NATS message.
 * Without it (`mesh status`, no KEK) proofs are shown as claimed.
 */
export async function knownMesh(
  nc: NatsConnection,
  verifier?: AnnouncementVerifier,
): Promise<{ live: LiveSet; source: 'roster' | 'listened'; truncated: boolean }> {
  const live = new LiveSet(verifier ? { verifier } : { trustClaims: true });
  live.subscribe(nc);
  const roster = await fetchRoster(nc, ROSTER_TIMEOUT_MS);
  if (roster) {
    for (const e of roster.entries) live.observe(e.a, e.seen);
    return { live, source: 'roster', truncated: roster.truncated };
  }
  await new Promise((r) => setTimeout(r, MAX_ANNOUNCE_PERIOD_MS + 200));
  return { live, source: 'listened', truncated: false };
}
