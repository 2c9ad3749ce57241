import type { JetStreamClient, KV } from 'nats';
import {
  bindBucket,
  entryJson,
  isCasConflict,
  jsonValue,
  nameKey,
  REFRESH_BUCKET,
  SESSIONS_BUCKET,
} from './kv.js';
import { isRefreshTokenShape, newRefreshToken, newSessionId, refreshTokenKey } from './refresh-tokens.js';

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
  /** Clock, unix seconds; default from `Date.now`. */
  now?: () => number;
}

/** A fresh refresh token of a session. */
export interface IssuedRefresh {
  session: SessionRecord;
  refreshToken: string;
  /** Seconds until it expires unless used (idle lifetime capped by the session's end). */
  refreshExpiresIn: number;
}

/** Outcome of a rotation. `reuse`: the session was revoked in KV; the caller broadcasts the sid. */
export type RotateResult =
  | ({ ok: true } & IssuedRefresh)
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  | { ok: false; reason: 'reuse'; sid: string; firstDetection: boolean };

const SUBJECT_PREFIX = 'sub.';
const ALL_KEY = 'all';
const sessionKey = (sid: string) => `sid.${sid}`;

/**
 * Sessions and their rotating refresh tokens (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): a refresh
 * token works once; its rotation is a compare-and-set on the KV revision, so of N concurrent uses
 * exactly one wins, and any other use of a rotated token is reuse, which ends the whole session.
 */
export class SessionStore {
  private readonly now: () => number;

  private constructor(
    private readonly sessions: KV,
    private readonly refresh: KV,
    private readonly idleTtlSec: number,
    private readonly absoluteTtlSec: number,
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
    const [sessions, refresh] = await Promise.all([
      bindBucket(js, SESSIONS_BUCKET),
      bindBucket(js, REFRESH_BUCKET),
    ]);
    return new SessionStore(sessions, refresh, options.idleTtlSec, options.absoluteTtlSec, options.now);
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
      absolute_expires_at: now + this.absoluteTtlSec,
    };
    await this.sessions.create(sessionKey(session.sid), jsonValue(session));
    return this.issue(session, now);
  }

  /** Uses a refresh token once: on success the token is dead and a new one of the same session is returned. */
  async rotate(refreshToken: string): Promise<RotateResult> {
    if (!isRefreshTokenShape(refreshToken)) return { ok: false, reason: 'unknown' };
    const key = refreshTokenKey(refreshToken);
    const entry = await this.refresh.get(key);
    const record = entryJson<RefreshRecord>(entry);
    if (!entry || !record) return { ok: false, reason: 'unknown' };
    if (record.state !== 'active') return this.reuse(record.sid);
    const now = this.now();
    if (now >= record.idle_expires_at) return { ok: false, reason: 'expired' };
    const session = await this.liveSession(record.sid, record.sub, now);
    if (!session.ok) return session;
    const rotated: RefreshRecord = { ...record, state: 'rotated', rotated_at: now };
    // The successor is written alongside the compare-and-set (one round trip instead of two). If the
    // CAS loses, the successor was never handed out: nobody holds its token, and it is deleted.
    const next = this.successor(session.session, now);
    const [cas, created] = await Promise.allSettled([
      this.refresh.update(key, jsonValue(rotated), entry.revision),
      this.refresh.create(next.key, jsonValue(next.record)),
    ]);
    if (cas.status === 'rejected') {
      if (created.status === 'fulfilled') this.refresh.delete(next.key).catch(() => undefined);
      // Another use of this very token rotated it first: a lost race counts as reuse.
      if (isCasConflict(cas.reason)) return this.reuse(record.sid);
      throw cas.reason;
    }
    if (created.status === 'rejected') throw created.reason;
    return { ok: true, ...next.issued };
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

  private async raiseMarker(key: string, at: number): Promise<void> {
    const current = entryJson<RevokedBefore>(await this.sessions.get(key));
    // Markers only move forward; a concurrent lower write is harmless because both sessions are dead.
    if (current && current.revoked_at >= at) return;
    await this.sessions.put(key, jsonValue({ revoked_at: at } satisfies RevokedBefore));
  }

  private async liveSession(
    sid: string,
    sub: string,
    now: number,
  ): Promise<
    { ok: true; session: SessionRecord } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' }
  > {
    // Three independent reads in one round trip's time.
    const [session, subject, all] = await Promise.all([
      this.getSession(sid),
      this.sessions.get(SUBJECT_PREFIX + nameKey(sub)).then((e) => entryJson<RevokedBefore>(e)),
      this.sessions.get(ALL_KEY).then((e) => entryJson<RevokedBefore>(e)),
    ]);
    if (!session || session.sub !== sub) return { ok: false, reason: 'unknown' };
    const revoked =
      session.revoked_at !== undefined ||
      (subject !== undefined && session.created_at <= subject.revoked_at) ||
      (all !== undefined && session.created_at <= all.revoked_at);
    if (revoked) return { ok: false, reason: 'revoked' };
    if (now >= session.absolute_expires_at) return { ok: false, reason: 'expired' };
    return { ok: true, session };
  }

  private async reuse(sid: string): Promise<RotateResult> {
    // Of many concurrent losers only the one that flips the session reports a first detection, so
    // the caller broadcasts one revocation instead of N.
    const outcome = await this.revokeSession(sid, this.now());
    return { ok: false, reason: 'reuse', sid, firstDetection: outcome === 'revoked' };
  }

  private async issue(session: SessionRecord, now: number): Promise<IssuedRefresh> {
    const next = this.successor(session, now);
    await this.refresh.create(next.key, jsonValue(next.record));
    return next.issued;
  }

  /** A new refresh token of `session`, its record and KV key (not yet stored). */
  private successor(
    session: SessionRecord,
    now: number,
  ): { key: string; record: RefreshRecord; issued: IssuedRefresh } {
    const refreshToken = newRefreshToken();
    const idleExpiresAt = Math.min(now + this.idleTtlSec, session.absolute_expires_at);
    const record: RefreshRecord = {
      sid: session.sid,
      sub: session.sub,
      state: 'active',
      created_at: now,
      idle_expires_at: idleExpiresAt,
    };
    return {
      key: refreshTokenKey(refreshToken),
      record,
      issued: { session, refreshToken, refreshExpiresIn: idleExpiresAt - now },
    };
  }
}
