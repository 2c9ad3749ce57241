import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection } from 'nats';
import type { MeshAnnouncement } from './announcement.js';
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
}

/**
 * Minimum gap between two announcements, ms: a burst of applied events gives one announcement per gap
 * (the last state), not one per event.
 */
export const ANNOUNCE_COALESCE_MS = 5;

/**
 * Announces one feed on `authmesh.mesh.announce`: every period, and right after the feed applied
 * events (coalesced). Publishing is fire-and-forget on the core connection: a failure (disconnected,
 * closed, no permission) is ignored, so a service that cannot announce still serves.
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

  constructor(private readonly o: MeshAnnouncerOptions) {}

  /** Starts announcing on `nc` (called once the feed is connected). */
  start(nc: NatsConnection): void {
    if (this.closed || this.nc) return;
    this.nc = nc;
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
    this.publish(MESH_GOODBYE_SUBJECT);
    this.closed = true;
  }

  announcement(): MeshAnnouncement {
    const s = this.o.state;
    return {
      v: 1,
      id: this.instanceId,
      label: this.label,
      aud: this.o.audience,
      ver: PACKAGE_VERSION,
      seq: s.appliedSequence(),
      stale: s.isStale(),
      epoch: s.epoch(),
      period: this.o.periodMs,
      authenticated: false,
    };
  }

  private publish(subject: string): void {
    if (this.closed || !this.nc || this.nc.isClosed()) return;
    this.lastAt = performance.now();
    try {
      this.nc.publish(subject, JSON.stringify(this.announcement()));
    } catch {
      // Announcing is best effort: serving never depends on it.
    }
  }
}
