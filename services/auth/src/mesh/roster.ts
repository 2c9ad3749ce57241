import type { NatsConnection, Subscription } from 'nats';
import { MESH_SUBJECT_PREFIX, parseAnnouncement, type MeshAnnouncement } from '@authmesh/interceptor';
import type { LiveSet } from './live-set.js';

/**
 * Request/reply subject on which every auth replica answers with its live set, so `authmesh revoke
 * --wait` and `authmesh mesh status` (which talk to NATS, not to the gRPC API) know the mesh at once
 * instead of listening for a whole announcement period. It discloses nothing a NATS subscriber to
 * `authmesh.mesh.>` does not hear anyway.
 */
export const MESH_ROSTER_SUBJECT = `${MESH_SUBJECT_PREFIX}roster`;

/** Most instances in one roster reply (NATS' default max payload is 1 MiB; an announcement is < 256 B). */
export const MAX_ROSTER_INSTANCES = 3000;

/** One roster entry: the announcement as last heard, and when (unix ms). */
export interface RosterEntry {
  a: MeshAnnouncement;
  seen: number;
}

/** Answers roster requests from `live` (the auth service, every replica). */
export function serveRoster(nc: NatsConnection, live: LiveSet): Subscription {
  return nc.subscribe(MESH_ROSTER_SUBJECT, {
    callback: (err, m) => {
      if (err !== null || !m.reply) return;
      const entries = live.entries().slice(0, MAX_ROSTER_INSTANCES);
      try {
        m.respond(JSON.stringify({ entries, truncated: live.size > entries.length }));
      } catch {
        // The requester went away: nothing to do.
      }
    },
  });
}

/** Asks a running auth replica for its live set; undefined when none answers within `timeoutMs`. */
export async function fetchRoster(
  nc: NatsConnection,
  timeoutMs: number,
): Promise<{ entries: RosterEntry[]; truncated: boolean } | undefined> {
  let data: Uint8Array;
  try {
    data = (await nc.request(MESH_ROSTER_SUBJECT, '', { timeout: timeoutMs })).data;
  } catch {
    return undefined;
  }
  const raw = JSON.parse(Buffer.from(data).toString('utf8')) as { entries?: unknown; truncated?: unknown };
  const entries: RosterEntry[] = [];
  for (const e of Array.isArray(raw.entries) ? raw.entries : []) {
    const seen = (e as { seen?: unknown }).seen;
    const a = parseAnnouncement(Buffer.from(JSON.stringify((e as { a?: unknown }).a ?? null)));
    if (a && typeof seen === 'number') entries.push({ a, seen });
  }
  return { entries, truncated: raw.truncated === true };
}
