/**
 * What an interceptor instance says about itself on `authmesh.mesh.announce` (JSON). Short keys: an
 * instance sends one every period and after each applied event.
 */
export interface MeshAnnouncement {
  v: 1;
  /** Instance id: random per process start (and per feed). */
  id: string;
  /** Readable `host/pid` label. */
  label: string;
  /** The audience the service accepts ('' when the feed was not told). */
  aud: string;
  /** @authmesh/interceptor version. */
  ver: string;
  /** Last revocation-stream sequence applied: every sequence up to it is applied, dropped or gone. */
  seq: number;
  stale: boolean;
  /** Revocation-set epoch (bumps on every applied revocation). */
  epoch: number;
  /** The announcement period, ms: the auth service forgets an instance unheard for 3 of them. */
  period: number;
  /**
   * As sent: whether the sender MACed it (`cid`, `n`, `mac`). As parsed: always false, since parsing
   * checks no MAC; the auth service sets it once the MAC verified (services/auth/src/mesh/).
   */
  authenticated: boolean;
  /**
   * Attributable announcements only (./announcement-mac.ts): the OAuth client whose credentials got
   * the instance's key (GetMeshKey), a counter that grows with every message of the instance (a
   * replayed message is never newer than what was heard), and the HMAC-SHA-256 of every field, base64url.
   */
  cid?: string;
  n?: number;
  mac?: string;
}

/** Longest instance id / label / audience / version accepted, characters. */
export const MAX_ANNOUNCEMENT_FIELD = 256;
/** Bounds of an announced period, ms: below, a flood of tiny periods; above, the 2 s promise is broken. */
export const MIN_ANNOUNCE_PERIOD_MS = 50;
export const MAX_ANNOUNCE_PERIOD_MS = 2000;
/** Largest announcement accepted, bytes. */
export const MAX_ANNOUNCEMENT_BYTES = 2048;

/** Parses and validates an announcement; undefined for anything malformed (never throws). */
export function parseAnnouncement(data: Uint8Array): MeshAnnouncement | undefined {
  if (data.length > MAX_ANNOUNCEMENT_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const a = raw as Record<string, unknown>;
  const str = (x: unknown, allowEmpty: boolean): x is string =>
    typeof x === 'string' && x.length <= MAX_ANNOUNCEMENT_FIELD && (allowEmpty || x !== '');
  const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (
    a.v !== 1 ||
    !str(a.id, false) ||
    !str(a.label, true) ||
    !str(a.aud, true) ||
    !str(a.ver, true) ||
    !count(a.seq) ||
    !count(a.epoch) ||
    typeof a.stale !== 'boolean' ||
    !count(a.period) ||
    a.period < MIN_ANNOUNCE_PERIOD_MS ||
    a.period > MAX_ANNOUNCE_PERIOD_MS
  ) {
    return undefined;
  }
  // The proof is all or nothing: a partial one is malformed, not unauthenticated.
  const proof = [a.cid, a.n, a.mac].filter((x) => x !== undefined).length;
  if (proof !== 0 && (proof !== 3 || !str(a.cid, false) || !count(a.n) || !isMac(a.mac))) return undefined;
  return {
    v: 1,
    id: a.id,
    label: a.label,
    aud: a.aud,
    ver: a.ver,
    seq: a.seq,
    stale: a.stale,
    epoch: a.epoch,
    period: a.period,
    authenticated: false,
    ...(proof === 3 ? { cid: a.cid as string, n: a.n as number, mac: a.mac as string } : {}),
  };
}

/** An HMAC-SHA-256 in base64url (43 characters). */
const isMac = (x: unknown): x is string => typeof x === 'string' && /^[A-Za-z0-9_-]{43}$/.test(x);
