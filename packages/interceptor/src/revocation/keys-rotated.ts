import type { NatsConnection, Subscription } from 'nats';
import type { KeyStore } from '../jwks/key-store.types.js';
import { KEYS_ROTATED_SUBJECT } from './subjects.js';

/** At most one JWKS fetch per this many ms caused by `authmesh.keys.rotated` announcements. */
export const ROTATION_REFRESH_INTERVAL_MS = 1000;

/**
 * Follows `authmesh.keys.rotated` (`{"current": kid, "withdrawn"?: kid, "at": s}`, published by the auth
 * service): refreshes the JWKS so a new key is known before it signs — but none for a kid already held,
 * and at most one fetch per second however many announcements arrive (anyone who can publish on NATS
 * could otherwise make every interceptor hammer the auth service). A burst is coalesced into one
 * trailing fetch. Announced kids are passed on (parked events signed by them look genuine).
 */
export class KeysRotatedListener {
  private readonly sub: Subscription;
  private lastFetch = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    nc: NatsConnection,
    private readonly keys: KeyStore,
    private readonly onAnnounced: (kid: string) => void,
  ) {
    this.sub = nc.subscribe(KEYS_ROTATED_SUBJECT, {
      callback: (err, m) => {
        if (err === null) this.announced(m.data);
      },
    });
  }

  private announced(data: Uint8Array): void {
    let current: unknown;
    if (data.byteLength <= 1024) {
      try {
        current = (JSON.parse(Buffer.from(data).toString()) as { current?: unknown } | null)?.current;
      } catch {
        // Not JSON: an old or foreign publisher; still worth one (rate-limited) refresh.
      }
    }
    if (typeof current === 'string' && current !== '' && current.length <= 256) {
      if (this.keys.get(current) !== undefined) return;
      this.onAnnounced(current);
    }
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFetch + ROTATION_REFRESH_INTERVAL_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFetch = performance.now();
      this.keys.refresh().catch(() => {});
    }, wait);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.sub.unsubscribe();
  }
}
