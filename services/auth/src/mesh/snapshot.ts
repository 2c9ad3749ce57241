import type { JetStreamManager } from 'nats';
import type { MeshSnapshot, RecentRevocation } from '../http/mesh-page.js';
import { REVOCATION_STREAM } from '../nats.js';
import type { MeshView } from './mesh-view.js';

/** How many of the last revocations the status page lists. */
export const RECENT_REVOCATIONS = 10;

/**
 * The status page's data: the live set, the stream's last sequence, and the last revocations (read
 * from the stream; kind, time and reason only, from the event's payload, shown not trusted) with how
 * many live instances have applied each.
 */
export async function meshSnapshot(mesh: MeshView, jsm: JetStreamManager): Promise<MeshSnapshot> {
  const instances = mesh.instances();
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(REVOCATION_STREAM)).state;
  const recent: RecentRevocation[] = [];
  for (let seq = last; seq >= Math.max(first, 1) && recent.length < RECENT_REVOCATIONS; seq--) {
    const m = await jsm.streams.getMessage(REVOCATION_STREAM, { seq }).catch(() => undefined);
    if (!m) continue;
    const claims = payloadOf(m.data);
    recent.push({
      sequence: seq,
      kind: typeof claims.kind === 'string' ? claims.kind : '?',
      at: typeof claims.at === 'number' ? claims.at : 0,
      reason: typeof claims.reason === 'string' ? claims.reason.slice(0, 200) : '',
      confirmed: instances.filter((i) => Number(i.applied_sequence) >= seq).length,
      live: instances.length,
    });
  }
  return { instances, stream_last_sequence: last, recent };
}

function payloadOf(data: Uint8Array): Record<string, unknown> {
  try {
    const part = Buffer.from(data).toString('latin1').split('.')[1] ?? '';
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
