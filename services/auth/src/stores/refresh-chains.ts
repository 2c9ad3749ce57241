import type { KvEntry } from 'nats';
import { entryJson, isCasConflict, jsonValue } from './kv.js';
import type { RecordBucket } from './record-mac.js';
import { refreshTokenKey, successorToken } from './refresh-tokens.js';
import type { Presenter, RotateResult, SessionRecord } from './sessions.js';

/** A chain token's record in `AUTHMESH_REFRESH`, keyed by the token's SHA-256. Times are unix seconds. */
export interface RefreshRecord {
  sid: string;
  /** The session's subject, so a refresh reads the session and the subject's marker at once. */
  sub: string;
  state: 'active' | 'rotated';
  created_at: number;
  idle_expires_at: number;
  rotated_at?: number;
  /**
   * The KV revision at which the session record was created: `sub`/`all` markers are compared with it
   * (one sequence, the bucket's), never with a replica's clock. Absent on records of older versions.
   */
  session_rev?: number;
  /** Thumbprint (x5t#S256) of the TLS client certificate that rotated this token, if any: a retry must present it. */
  rotated_by_cert?: string;
  /**
   * The session's `absolute_expires_at`, copied so a rotation can write the successor without first
   * reading the session (the session is read alongside the compare-and-set). Absent on older records.
   */
  absolute_expires_at?: number;
}

/** Why a session cannot be refreshed, or the session. */
export type LiveSession =
  { ok: true; session: SessionRecord } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' };

/** What a chain rotation needs from the session store. */
export interface ChainHost {
  /** The live session of a chain record (session, `sub` and `all` markers read at once), or why not. */
  liveSession(record: RefreshRecord, now: number): Promise<LiveSession>;
  /** Ends session `sid` after a reuse. */
  reuse(sid: string): Promise<RotateResult>;
}

/** Settings of {@link RefreshChains}. */
export interface ChainSettings {
  idleTtlSec: number;
  retryGraceSec: number;
  successorKey: Uint8Array;
  now: () => number;
}

/**
 * Chain tokens (43 characters), the refresh format before family tokens: one KV record per token, a
 * rotation is a compare-and-set on the token's record plus the create of its successor's (derived by
 * HMAC from the token). Sessions started before family tokens keep rotating this way until they end;
 * no new session starts one.
 */
export class RefreshChains {
  constructor(
    private readonly refresh: RecordBucket,
    private readonly host: ChainHost,
    private readonly settings: ChainSettings,
  ) {}

  /** {@link SessionStore.rotate} for a chain token. */
  async rotate(refreshToken: string, presenter: Presenter): Promise<RotateResult> {
    const key = refreshTokenKey(refreshToken);
    const entry = await this.refresh.get(key);
    const record = entryJson<RefreshRecord>(entry);
    if (!entry || !record) return { ok: false, reason: 'unknown' };
    if (record.state !== 'active') return this.retry(refreshToken, record, presenter);
    const now = this.settings.now();
    if (now >= record.idle_expires_at) return { ok: false, reason: 'expired' };
    const rotated: RefreshRecord = {
      ...record,
      state: 'rotated',
      rotated_at: now,
      ...(presenter.certThumbprint !== undefined ? { rotated_by_cert: presenter.certThumbprint } : {}),
    };
    const next = successorToken(this.settings.successorKey, refreshToken);
    // A record of an older version does not carry the session's end: read the session first.
    const known =
      record.absolute_expires_at !== undefined ? undefined : await this.host.liveSession(record, now);
    if (known && !known.ok) return known;
    const successor = this.record(
      record,
      known?.session.absolute_expires_at ?? record.absolute_expires_at!,
      now,
    );
    // The session and its markers are read while the compare-and-set on this token and the successor's
    // create are in flight. Rotating a token whose session turns out to be dead is harmless: the answer
    // is still the refusal, and the successor is refused the same way (its session is checked on every
    // use). Of concurrent uses exactly one compare-and-set wins.
    const [live, cas, created] = await Promise.allSettled([
      known ?? this.host.liveSession(record, now),
      this.refresh.update(key, jsonValue(rotated), entry.revision),
      this.refresh.create(refreshTokenKey(next), jsonValue(successor)),
    ]);
    if (live.status === 'rejected') throw live.reason;
    if (!live.value.ok) return live.value;
    if (cas.status === 'rejected') {
      if (!isCasConflict(cas.reason)) throw cas.reason;
      // A concurrent use of this very token rotated it first: ours is then a retry of that rotation.
      const latest = entryJson<RefreshRecord>(await this.refresh.get(key));
      return latest ? this.retry(refreshToken, latest, presenter) : { ok: false, reason: 'unknown' };
    }
    // Whoever writes the successor first wins; it is the same record either way.
    if (created.status === 'rejected' && !isCasConflict(created.reason)) throw created.reason;
    return {
      ok: true,
      retried: false,
      session: live.value.session,
      refreshToken: next,
      refreshExpiresIn: successor.idle_expires_at - now,
    };
  }

  /** The session id of a chain token, if it has a record. */
  async sidOf(refreshToken: string): Promise<string | undefined> {
    return entryJson<RefreshRecord>(await this.refresh.get(refreshTokenKey(refreshToken)))?.sid;
  }

  /**
   * A rotated token presented again. Within the grace, from the certificate that rotated it, and while
   * its successor is still unused, the answer is that successor (recreated if its write was lost). A
   * token two generations back fails here too: its successor has been used.
   */
  private async retry(
    refreshToken: string,
    record: RefreshRecord,
    presenter: Presenter,
  ): Promise<RotateResult> {
    const now = this.settings.now();
    const grace = this.settings.retryGraceSec;
    const inGrace = grace > 0 && record.rotated_at !== undefined && now - record.rotated_at <= grace;
    if (!inGrace || record.rotated_by_cert !== presenter.certThumbprint) return this.host.reuse(record.sid);
    const next = successorToken(this.settings.successorKey, refreshToken);
    const nextKey = refreshTokenKey(next);
    // The successor and the session in one round trip: the successor has this record's session.
    const [stored, session] = await Promise.all([
      this.refresh.get(nextKey),
      this.host.liveSession(record, now),
    ]);
    let successor = entryJson<RefreshRecord>(stored);
    if (successor === undefined) {
      // The rotating call's write of the successor is in flight or was lost (it died after its CAS).
      if (!session.ok) return session;
      const fresh = this.record(record, session.session.absolute_expires_at, now);
      try {
        await this.refresh.create(nextKey, jsonValue(fresh));
        successor = fresh;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
        successor = entryJson<RefreshRecord>(await this.refresh.get(nextKey));
      }
    }
    if (successor === undefined || successor.sid !== record.sid) return { ok: false, reason: 'unknown' };
    if (successor.state !== 'active') return this.host.reuse(record.sid);
    if (now >= successor.idle_expires_at) return { ok: false, reason: 'expired' };
    if (!session.ok) return session;
    return {
      ok: true,
      retried: true,
      session: session.session,
      refreshToken: next,
      refreshExpiresIn: successor.idle_expires_at - now,
    };
  }

  /** A new active record in `of`'s session. */
  private record(of: RefreshRecord, absoluteExpiresAt: number, now: number): RefreshRecord {
    return {
      sid: of.sid,
      sub: of.sub,
      state: 'active',
      created_at: now,
      idle_expires_at: Math.min(now + this.settings.idleTtlSec, absoluteExpiresAt),
      absolute_expires_at: absoluteExpiresAt,
      ...(of.session_rev !== undefined ? { session_rev: of.session_rev } : {}),
    };
  }
}

/** True when `marker` (a `sub`/`all` entry) ends a session created at KV revision `createdRev` (or, without one, at `createdAt`). */
export function markerEnds(
  marker: KvEntry | null,
  createdRev: number | undefined,
  createdAt: number,
): boolean {
  const value = entryJson<{ revoked_at: number }>(marker);
  if (!marker || value === undefined) return false;
  // One sequence for both: a replica's clock cannot move a session to the other side of a revocation.
  if (createdRev !== undefined) return createdRev < marker.revision;
  return createdAt <= value.revoked_at;
}
