import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { MeshAnnouncement } from './announcement.js';

/** Which message a MAC is for: an announcement's MAC never passes as a goodbye's (and back). */
export type AnnouncementKind = 'announce' | 'goodbye';

/**
 * The bytes an announcement's MAC covers: every field the auth service acts on, in a fixed order, as a
 * JSON array (unambiguous whatever the strings hold), under a version label. `authenticated` and `mac`
 * themselves are not covered (the receiver decides the first, the second is the MAC).
 */
function macInput(kind: AnnouncementKind, a: MeshAnnouncement): string {
  return JSON.stringify([
    'authmesh.mesh.v1',
    kind,
    a.cid ?? '',
    a.id,
    a.label,
    a.aud,
    a.ver,
    a.seq,
    a.stale,
    a.epoch,
    a.period,
    a.n ?? 0,
  ]);
}

/** The `mac` of an announcement under the instance's key (GetMeshKey), base64url. */
export function macAnnouncement(
  key: Uint8Array | KeyObject,
  kind: AnnouncementKind,
  a: MeshAnnouncement,
): string {
  return createHmac('sha256', key).update(macInput(kind, a)).digest('base64url');
}

/** True when `a.mac` is the MAC of `a` as a `kind` message under `key` (constant time). */
export function verifyAnnouncementMac(
  key: Uint8Array | KeyObject,
  kind: AnnouncementKind,
  a: MeshAnnouncement,
): boolean {
  if (a.mac === undefined) return false;
  const expected = createHmac('sha256', key).update(macInput(kind, a)).digest();
  const got = Buffer.from(a.mac, 'base64url');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
