import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { verifyAnnouncementMac, type AnnouncementKind, type MeshAnnouncement } from '@authmesh/interceptor';

/** The KEK purpose (Kek.deriveKey) of the root of every instance's announcement key. */
export const MESH_KEY_PURPOSE = 'mesh-announcements';

/**
 * The `cid` under which the auth service's own feeds (its guard) announce. Their key is derived apart
 * (`serviceKeyFor`: no client id at all in the derivation), so no client, whatever its name, can get
 * it from GetMeshKey: a client named like this only makes announcements that fail to verify.
 */
export const AUTH_SERVICE_MESH_CLIENT = 'authmesh-auth-service';

/** Most instance keys kept derived (the live set's default bound). */
const MAX_CACHED_KEYS = 10_000;

/** Checks an announcement's proof; the live set's view of ./announcement-keys.ts. */
export interface AnnouncementVerifier {
  /** True when `a` carries a MAC under the key of (`a.cid`, `a.id`) for a `kind` message. */
  verify(kind: AnnouncementKind, a: MeshAnnouncement): boolean;
}

/**
 * The announcement keys of the mesh. An instance's key is HMAC-SHA-256(root, [client_id, instance_id]),
 * the root derived from the KEK: only the auth service (and an operator holding the KEK) can derive it,
 * every replica derives the same one (no stored state, no datastore), and it is bound to the client whose
 * token asked for it (GetMeshKey), so a service's credentials never yield a key for another client's
 * identity. The key travels only over gRPC to the authenticated client, never on NATS.
 */
export class MeshKeys implements AnnouncementVerifier {
  readonly #root: Buffer;
  /**
   * Keys of instances whose announcements verified, so that each announcement costs one HMAC, not two
   * (at 10,000 instances every 2 s that is 5,000 a second per replica). Only verified ones enter: a flood
   * of forged announcements cannot fill it with its own entries; at the bound the oldest goes.
   */
  readonly #verified = new Map<string, KeyObject>();

  /** `root`: `kek.deriveKey(MESH_KEY_PURPOSE)` (32 bytes). */
  constructor(root: Uint8Array) {
    if (!(root instanceof Uint8Array) || root.length !== 32)
      throw new TypeError('MeshKeys: root must be 32 bytes');
    this.#root = Buffer.from(root);
  }

  /** The key of instance `instanceId` announcing as client `clientId`. */
  keyFor(clientId: string, instanceId: string): Buffer {
    return createHmac('sha256', this.#root)
      .update(JSON.stringify([clientId, instanceId]))
      .digest();
  }

  /** The key of the auth service's own instance `instanceId` (announcing as {@link AUTH_SERVICE_MESH_CLIENT}). */
  serviceKeyFor(instanceId: string): Buffer {
    return createHmac('sha256', this.#root)
      .update(JSON.stringify([null, instanceId]))
      .digest();
  }

  verify(kind: AnnouncementKind, a: MeshAnnouncement): boolean {
    if (a.cid === undefined || a.mac === undefined) return false;
    const name = JSON.stringify([a.cid, a.id]);
    const cached = this.#verified.get(name);
    if (cached) return verifyAnnouncementMac(cached, kind, a);
    const key = createSecretKey(
      a.cid === AUTH_SERVICE_MESH_CLIENT ? this.serviceKeyFor(a.id) : this.keyFor(a.cid, a.id),
    );
    if (!verifyAnnouncementMac(key, kind, a)) return false;
    if (this.#verified.size >= MAX_CACHED_KEYS) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(name, key);
    return true;
  }
}
