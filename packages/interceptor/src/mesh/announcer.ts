import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection } from 'nats';
import type { MeshAnnouncement } from './announcement.js';
import { macAnnouncement, type AnnouncementKind } from './announcement-mac.js';
import type { MeshKeySource } from './mesh-key.js';
import { MESH_ANNOUNCE_SUBJECT, MESH_GOODBYE_SUBJECT } from './subjects.js';
import { PACKAGE_VERSION } from './version.js';

/** What the announcer reads of its feed, at publication time only (never on the call path). */
export interface AnnouncedState {
  /** Every stream sequence up to here is applied, dropped or gone. */
  appliedSequence(): number;
  isStale(): boolean;
  /** Revocation-set epoch. */
  epoch(): number;
}

export interface MeshAnnouncerOptions {
  /** The audience the service accepts ('' when unknown). */
  audience: string;
  /** Period of the regular announcements, ms (at most 2000). */
  periodMs: number;
  state: AnnouncedState;
  /**
   * Where the instance gets the key that makes its announcements attributable (./mesh-key.ts). Without
   * it, or until it answers, announcements are unauthenticated.
   */
  key?: MeshKeySource;
}

/** Retry delays of a failed key request, ms: doubling from the first to the last, then the last. */
const KEY_RETRY_FIRST_MS = 1000;
const KEY_RETRY_MAX_MS = 60_000;

/**
 * Minimum gap between two announcements, ms: a burst of applied events gives one announcement per gap
 * (the last state), not one per event.
 */
export const ANNOUNCE_COALESCE_MS = 5;

/**
 * Announces one feed on `authmesh.mesh.announce`: every period, and right after the feed applied
 * events (coalesced). Publishing is fire-and-forget on the core connection: a failure (disconnected,
 * closed, no permission) is ignored, so a service that cannot announce still serves. With a key
 * (`key` option) every message is MACed: nothing of it runs on the call path (timers and the feed's
 * event handling only).
 */
export class MeshAnnouncer {
  /** Random per feed (a process usually has one): a restart is a new instance. */
  readonly instanceId = randomBytes(12).toString('base64url');
  readonly label = `${hostname()}/${process.pid}`;
  private nc: NatsConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private lastAt = -Infinity;
  private closed = false;
  private key: { clientId: string; key: KeyObject } | undefined;
  private keyRetry: NodeJS.Timeout | undefined;
  /** Grows with every message: the auth service never takes a message not newer than one it heard. */
  private counter = 0;

  constructor(private readonly o: MeshAnnouncerOptions) {}

  /** True once announcements carry the instance's MAC. */
  get authenticated(): boolean {
    return this.key !== undefined;
  }

  /** Starts announcing on `nc` (called once the feed is connected). */
  start(nc: NatsConnection): void {
    if (this.closed || this.nc) return;
    this.nc = nc;
    if (this.o.key) this.fetchKey(this.o.key, KEY_RETRY_FIRST_MS);
    this.publish(MESH_ANNOUNCE_SUBJECT);
    this.timer = setInterval(() => this.publish(MESH_ANNOUNCE_SUBJECT), this.o.periodMs);
    this.timer.unref();
  }

  /** The feed applied something: announce now, or at the end of the coalescing gap. */
  changed(): void {
    if (this.closed || !this.nc || this.soon) return;
    const wait = this.lastAt + ANNOUNCE_COALESCE_MS - performance.now();
    // Never synchronously: the feed calls this from its event handling.
    this.soon = setTimeout(
      () => {
        this.soon = undefined;
        this.publish(MESH_ANNOUNCE_SUBJECT);
      },
      Math.max(0, wait),
    );
    this.soon.unref();
  }

  /** Says goodbye (the instance leaves the live set at once) and stops. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    if (this.keyRetry) clearTimeout(this.keyRetry);
    this.publish(MESH_GOODBYE_SUBJECT);
    this.closed = true;
  }

  /** The next message of `kind`, MACed when the instance has its key. */
  announcement(kind: AnnouncementKind = 'announce'): MeshAnnouncement {
    const s = this.o.state;
    const a: MeshAnnouncement = {
      v: 1,
      id: this.instanceId,
      label: this.label,
      aud: this.o.audience,
      ver: PACKAGE_VERSION,
      seq: s.appliedSequence(),
      stale: s.isStale(),
      epoch: s.epoch(),
      period: this.o.periodMs,
      authenticated: this.key !== undefined,
    };
    if (!this.key) return a;
    a.cid = this.key.clientId;
    a.n = ++this.counter;
    a.mac = macAnnouncement(this.key.key, kind, a);
    return a;
  }

  /**
   * Asks for the key in the background, retrying with backoff while the auth service cannot give it:
   * meanwhile (and forever, if it never can) the instance announces unauthenticated and serves.
   */
  private fetchKey(source: MeshKeySource, retryMs: number): void {
    void Promise.resolve()
      .then(() => source(this.instanceId))
      .then(
        (key) => {
          if (this.closed) return;
          // A KeyObject: the HMAC key is set up once, not at every announcement.
          this.key = { clientId: key.clientId, key: createSecretKey(key.key) };
          this.publish(MESH_ANNOUNCE_SUBJECT); // attributable from now on: say so at once
        },
        () => {
          if (this.closed) return;
          this.keyRetry = setTimeout(
            () => this.fetchKey(source, Math.min(retryMs * 2, KEY_RETRY_MAX_MS)),
            retryMs,
          );
          this.keyRetry.unref();
        },
      );
  }

  private publish(subject: string): void {
    if (this.closed || !this.nc || this.nc.isClosed()) return;
    this.lastAt = performance.now();
    try {
      const kind = subject === MESH_GOODBYE_SUBJECT ? 'goodbye' : 'announce';
      this.nc.publish(subject, JSON.stringify(this.announcement(kind)));
    } catch {
      // Announcing is best effort: serving never depends on it.
    }
  }
}
