import type { JetStreamClient, KvEntry } from 'nats';
import {
  bindHotBucket,
  entryJson,
  isCasConflict,
  jsonValue,
  type KvPipeline,
  nameKey,
  REFRESH_BUCKET,
  SESSIONS_BUCKET,
} from './kv.js';
import type { RecordBucket, RecordIntegrity } from './record-mac.js';
import {
  isRefreshTokenShape,
  newRefreshToken,
  newSessionId,
  refreshTokenKey,
  successorToken,
} from './refresh-tokens.js';

/** A session (refresh family) in `AUTHMESH_SESSIONS` under `sid.<sid>`. Times are unix seconds. */
export interface SessionRecord {
  sid: string;
  sub: string;
  client_id: string;
  /** The scope granted at login; refreshes may narrow it per access token, never widen it. */
  scope: string[];
  aud: string[];
  roles: string[];
  created_at: number;
  absolute_expires_at: number;
  revoked_at?: number;
}

/** A refresh token in `AUTHMESH_REFRESH`, keyed by the token's SHA-256. Times are unix seconds. */
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

/** A "revoked before" marker for a subject (`sub.<name key>`) or everything (`all`). */
interface RevokedBefore {
  revoked_at: number;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** A refresh token unused for this long expires, seconds. */
  idleTtlSec: number;
  /** A session ends this long after login whatever happens, seconds. */
  absoluteTtlSec: number;
  /** Key of the successor derivation (HMAC-SHA-256, 32 bytes), derived from the KEK. */
  successorKey: Uint8Array;
  /**
   * `AUTHMESH_REFRESH_RETRY_GRACE`: for this long after a rotation, presenting the rotated token again
   * (a lost answer, a concurrent refresh) returns the same successor while the successor is unused;
   * seconds, 0 disables. Default 15.
   */
  retryGraceSec?: number;
  /** Clock, unix seconds; default from `Date.now`. */
  now?: () => number;
  /**
   * Seals and checks every session, marker and refresh-token record (./record-mac.ts): a record a NATS
   * writer made or changed is refused, never trusted.
   */
  integrity: RecordIntegrity;
  /** The service's request pipeline: a rotation's KV requests are written together with others. */
  pipeline?: KvPipeline;
}

/** A fresh refresh token of a session. */
export interface IssuedRefresh {
  session: SessionRecord;
  refreshToken: string;
  /** Seconds until it expires unless used (idle lifetime capped by the session's end). */
  refreshExpiresIn: number;
}

/** Who presents a refresh token: a retry within the grace must come from the same certificate. */
export interface Presenter {
  /** x5t#S256 of the TLS client certificate (mTLS), if any. */
  certThumbprint?: string | undefined;
}

/**
 * Outcome of a rotation. `retried`: the token had just been rotated and this is the same successor again
 * (lost answer or concurrent refresh). `reuse`: the session was revoked in KV; the caller broadcasts the sid.
 */
export type RotateResult =
  | ({ ok: true; retried: boolean } & IssuedRefresh)
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; reason: 'reuse'; sid: string; firstDetection: boolean };

/** The `deriveKey` purpose of the successor key (`Kek.deriveKey`), the same on every replica. */
export const SUCCESSOR_KEY_PURPOSE = 'refresh-successor';

const SUBJECT_PREFIX = 'sub.';
const ALL_KEY = 'all';
const sessionKey = (sid: string) => `sid.${sid}`;

/**
 * Sessions and their rotating refresh tokens (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14). A rotation
 * is one compare-and-set on the token's KV revision, so of N concurrent uses exactly one rotates. The
 * successor is derived from the token (HMAC under a key from the KEK), so every use within the retry
 * grace, while the successor is unused, gets that same successor back: a lost answer or a concurrent
 * refresh never forks the family or ends the session. Anything else presenting a rotated token (after the
 * grace, after the successor was used, two generations back, from another certificate) is reuse, which
 * ends the whole session.
 */
export class SessionStore {
  private readonly now: () => number;

  private constructor(
    private readonly sessions: RecordBucket,
    private readonly refresh: RecordBucket,
    private readonly options: Readonly<Required<Omit<SessionStoreOptions, 'now' | 'integrity' | 'pipeline'>>>,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Binds the `AUTHMESH_SESSIONS` and `AUTHMESH_REFRESH` buckets. */
  static async open(js: JetStreamClient, options: SessionStoreOptions): Promise<SessionStore> {
    for (const name of ['idleTtlSec', 'absoluteTtlSec'] as const) {
      if (!Number.isInteger(options[name]) || options[name] <= 0) {
        throw new TypeError(`SessionStore: options.${name} must be a positive integer (seconds)`);
      }
    }
    if (!(options.successorKey instanceof Uint8Array) || options.successorKey.length < 32)
      throw new TypeError('SessionStore: options.successorKey must be at least 32 bytes');
    const retryGraceSec = options.retryGraceSec ?? 15;
    if (!Number.isInteger(retryGraceSec) || retryGraceSec < 0)
      throw new TypeError('SessionStore: options.retryGraceSec must be a non-negative integer (seconds)');
    const [sessions, refresh] = await Promise.all([
      bindHotBucket(js, SESSIONS_BUCKET, options.pipeline).then((kv) =>
        options.integrity.wrap(kv, SESSIONS_BUCKET),
      ),
      bindHotBucket(js, REFRESH_BUCKET, options.pipeline).then((kv) =>
        options.integrity.wrap(kv, REFRESH_BUCKET),
      ),
    ]);
    const settings = {
      idleTtlSec: options.idleTtlSec,
      absoluteTtlSec: options.absoluteTtlSec,
      successorKey: Buffer.from(options.successorKey),
      retryGraceSec,
    };
    return new SessionStore(sessions, refresh, Object.freeze(settings), options.now);
  }

  /** Starts a session (password login) and returns its first refresh token. */
  async start(
    grant: Pick<SessionRecord, 'sub' | 'client_id' | 'scope' | 'aud' | 'roles'>,
  ): Promise<IssuedRefresh> {
    const now = this.now();
    const session: SessionRecord = {
      sid: newSessionId(),
      ...grant,
      created_at: now,
      absolute_expires_at: now + this.options.absoluteTtlSec,
    };
    // The create's revision places the session on the bucket's sequence, before or after any marker.
    const sessionRev = await this.sessions.create(sessionKey(session.sid), jsonValue(session));
    const first = this.record(session.sid, session.sub, session.absolute_expires_at, sessionRev, now);
    const refreshToken = newRefreshToken();
    await this.refresh.create(refreshTokenKey(refreshToken), jsonValue(first));
    return { session, refreshToken, refreshExpiresIn: first.idle_expires_at - now };
  }

  /**
   * Uses a refresh token: the first use rotates it and returns its successor; a use of the token just
   * rotated, within the retry grace and while the successor is unused, returns that same successor
   * (`retried`); any other use of a rotated token is reuse.
   */
  async rotate(refreshToken: string, presenter: Presenter = {}): Promise<RotateResult> {
    if (!isRefreshTokenShape(refreshToken)) return { ok: false, reason: 'unknown' };
    const key = refreshTokenKey(refreshToken);
    const entry = await this.refresh.get(key);
    const record = entryJson<RefreshRecord>(entry);
    if (!entry || !record) return { ok: false, reason: 'unknown' };
    if (record.state !== 'active') return this.retry(refreshToken, record, presenter);
    const now = this.now();
    if (now >= record.idle_expires_at) return { ok: false, reason: 'expired' };
    const rotated: RefreshRecord = {
      ...record,
      state: 'rotated',
      rotated_at: now,
      ...(presenter.certThumbprint !== undefined ? { rotated_by_cert: presenter.certThumbprint } : {}),
    };
    const next = successorToken(this.options.successorKey, refreshToken);
    // A record of an older version does not carry the session's end: read the session first.
    const known = record.absolute_expires_at !== undefined ? undefined : await this.liveSession(record, now);
    if (known && !known.ok) return known;
    const successor = this.record(
      record.sid,
      record.sub,
      known?.session.absolute_expires_at ?? record.absolute_expires_at!,
      record.session_rev,
      now,
    );
    // The hot path is this one round trip after the token's read: the session and its markers are read
    // while the compare-and-set on this token and the successor's create are in flight (nats.js
    // pipelines them on the connection). Rotating a token whose session turns out to be dead is
    // harmless: the answer is still the refusal, and the successor it left is refused the same way
    // (its session is checked on every use). Of concurrent uses exactly one compare-and-set wins.
    const [live, cas, created] = await Promise.allSettled([
      known ?? this.liveSession(record, now),
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
    const now = this.now();
    const grace = this.options.retryGraceSec;
    const inGrace = grace > 0 && record.rotated_at !== undefined && now - record.rotated_at <= grace;
    if (!inGrace || record.rotated_by_cert !== presenter.certThumbprint) return this.reuse(record.sid);
    const next = successorToken(this.options.successorKey, refreshToken);
    const nextKey = refreshTokenKey(next);
    // The successor and the session in one round trip: the successor has this record's session.
    const [stored, session] = await Promise.all([this.refresh.get(nextKey), this.liveSession(record, now)]);
    let successor = entryJson<RefreshRecord>(stored);
    if (successor === undefined) {
      // The rotating call's write of the successor is in flight or was lost (it died after its CAS).
      if (!session.ok) return session;
      const fresh = this.record(
        record.sid,
        record.sub,
        session.session.absolute_expires_at,
        record.session_rev,
        now,
      );
      try {
        await this.refresh.create(nextKey, jsonValue(fresh));
        successor = fresh;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
        successor = entryJson<RefreshRecord>(await this.refresh.get(nextKey));
      }
    }
    if (successor === undefined || successor.sid !== record.sid) return { ok: false, reason: 'unknown' };
    if (successor.state !== 'active') return this.reuse(record.sid);
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

  /** The session a refresh token belongs to (for Revoke with a refresh token), whatever its state. */
  async sessionOfRefreshToken(refreshToken: string): Promise<SessionRecord | undefined> {
    if (!isRefreshTokenShape(refreshToken)) return undefined;
    const record = entryJson<RefreshRecord>(await this.refresh.get(refreshTokenKey(refreshToken)));
    return record ? this.getSession(record.sid) : undefined;
  }

  /** The session `sid`, if it exists. */
  async getSession(sid: string): Promise<SessionRecord | undefined> {
    return entryJson<SessionRecord>(await this.sessions.get(sessionKey(sid)));
  }

  /**
   * Marks a session revoked, so its refresh tokens stop working: `revoked` when this call did it,
   * `already` when it was revoked before, `missing` when there is no such session.
   */
  async revokeSession(sid: string, at: number): Promise<'revoked' | 'already' | 'missing'> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.sessions.get(sessionKey(sid));
      const session = entryJson<SessionRecord>(entry);
      if (!entry || !session) return 'missing';
      if (session.revoked_at !== undefined) return 'already';
      try {
        await this.sessions.update(
          sessionKey(sid),
          jsonValue({ ...session, revoked_at: at }),
          entry.revision,
        );
        return 'revoked';
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    throw new Error('session revocation kept conflicting');
  }

  /** Ends every session of `sub` created at or before `at` (a `sub` revocation). */
  revokeSubject(sub: string, at: number): Promise<void> {
    return this.raiseMarker(SUBJECT_PREFIX + nameKey(sub), at);
  }

  /** Ends every session created at or before `at` (an `all` revocation). */
  revokeAll(at: number): Promise<void> {
    return this.raiseMarker(ALL_KEY, at);
  }

  /**
   * Writes a marker with compare-and-set. Every revocation writes, so the marker's revision (the bucket's
   * sequence, one clock for every replica) is after every session created before it; `revoked_at` only
   * moves forward and serves records that predate `session_rev`.
   */
  private async raiseMarker(key: string, at: number): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.sessions.get(key);
      const current = entryJson<RevokedBefore>(entry);
      const value = jsonValue({ revoked_at: Math.max(at, current?.revoked_at ?? 0) } satisfies RevokedBefore);
      try {
        if (entry && entry.operation === 'PUT') await this.sessions.update(key, value, entry.revision);
        else await this.sessions.create(key, value);
        return;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    throw new Error('revocation marker kept conflicting');
  }

  /** The live session of a refresh record, or why there is none. */
  private async liveSession(
    record: RefreshRecord,
    now: number,
  ): Promise<
    { ok: true; session: SessionRecord } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  > {
    // Three independent reads in one round trip's time.
    const [session, subject, all] = await Promise.all([
      this.getSession(record.sid),
      this.sessions.get(SUBJECT_PREFIX + nameKey(record.sub)),
      this.sessions.get(ALL_KEY),
    ]);
    if (!session || session.sub !== record.sub) return { ok: false, reason: 'unknown' };
    const before = (marker: KvEntry | null): boolean => {
      const value = entryJson<RevokedBefore>(marker);
      if (!marker || value === undefined) return false;
      // One sequence for both: a replica's clock cannot move a session to the other side of a revocation.
      if (record.session_rev !== undefined) return record.session_rev < marker.revision;
      return session.created_at <= value.revoked_at;
    };
    if (session.revoked_at !== undefined || before(subject) || before(all))
      return { ok: false, reason: 'revoked' };
    if (now >= session.absolute_expires_at) return { ok: false, reason: 'expired' };
    return { ok: true, session };
  }

  private async reuse(sid: string): Promise<RotateResult> {
    // Of many concurrent losers only the one that flips the session reports a first detection, so
    // the caller broadcasts one revocation instead of N.
    const outcome = await this.revokeSession(sid, this.now());
    return { ok: false, reason: 'reuse', sid, firstDetection: outcome === 'revoked' };
  }

  /** A new active refresh record of session `sid` (the token is the caller's: random, or a derived successor). */
  private record(
    sid: string,
    sub: string,
    absoluteExpiresAt: number,
    sessionRev: number | undefined,
    now: number,
  ): RefreshRecord {
    return {
      sid,
      sub,
      state: 'active',
      created_at: now,
      idle_expires_at: Math.min(now + this.options.idleTtlSec, absoluteExpiresAt),
      absolute_expires_at: absoluteExpiresAt,
      ...(sessionRev !== undefined ? { session_rev: sessionRev } : {}),
    };
  }
}
