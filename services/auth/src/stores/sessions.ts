import type { JetStreamClient } from 'nats';
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
import { type LiveSession, markerEnds, RefreshChains, type RefreshRecord } from './refresh-chains.js';
import {
  CHAIN_TOKEN_LENGTH,
  familyToken,
  isRefreshTokenShape,
  newSessionId,
  parseFamilyToken,
} from './refresh-tokens.js';

export type { RefreshRecord } from './refresh-chains.js';

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
  /** Which generation of the session's family token is current; absent on sessions of chain tokens. */
  refresh?: RefreshFamily;
  /**
   * The KV revision of the session's create, sealed into the record by the login right after the create
   * (family sessions). `sub`/`all` markers are compared with it, on the bucket's one sequence.
   */
  created_rev?: number;
}

/** The refresh state of a session with family tokens (./refresh-tokens.ts `familyToken`). */
export interface RefreshFamily {
  /** The current generation: its token is the one that rotates. */
  gen: number;
  /** The current token expires unless used by then (idle lifetime capped by the session's end). */
  idle_expires_at: number;
  /** When the current generation was made by a rotation (absent for the login's token). */
  rotated_at?: number;
  /** Thumbprint (x5t#S256) of the TLS client certificate of that rotation, if any: a retry must present it. */
  rotated_by_cert?: string;
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

/** Compare-and-set attempts of a session revocation before it reports a failure (see revokeSession). */
const REVOKE_ATTEMPTS = 40;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The last generation a family token can carry (a uint32). */
const MAX_GEN = 0xffff_ffff;

/** Of two writers of one session record, the other won: read it again and decide anew. */
const CONFLICT = Symbol('conflict');

/**
 * Sessions and their rotating refresh tokens (RFC 6749 §10.4, RFC 9700 §4.14). A session record holds
 * the current generation of its family token; a rotation is one compare-and-set on that record, so of N
 * concurrent uses exactly one rotates, and the successor is computed (./refresh-tokens.ts), never
 * stored: every use within the retry grace, while the successor is unused, gets that same successor
 * back, so a lost answer or a concurrent refresh never forks the family or ends the session. Anything
 * else presenting an older generation (after the grace, after the successor was used, two generations
 * back, from another certificate) is reuse, which ends the whole session. Chain tokens of sessions
 * started before family tokens rotate through ./refresh-chains.ts.
 */
export class SessionStore {
  private readonly now: () => number;
  private readonly chains: RefreshChains;

  private constructor(
    private readonly sessions: RecordBucket,
    refresh: RecordBucket,
    private readonly options: Readonly<Required<Omit<SessionStoreOptions, 'now' | 'integrity' | 'pipeline'>>>,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? (() => Math.floor(Date.now() / 1000));
    this.chains = new RefreshChains(
      refresh,
      { liveSession: (record, at) => this.liveSession(record, at), reuse: (sid) => this.reuse(sid) },
      { ...options, now: this.now },
    );
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

  /** Starts a session (password login) and returns its first refresh token: two KV writes. */
  async start(
    grant: Pick<SessionRecord, 'sub' | 'client_id' | 'scope' | 'aud' | 'roles'>,
  ): Promise<IssuedRefresh> {
    const now = this.now();
    const absoluteExpiresAt = now + this.options.absoluteTtlSec;
    const session: SessionRecord = {
      sid: newSessionId(),
      ...grant,
      created_at: now,
      absolute_expires_at: absoluteExpiresAt,
      refresh: { gen: 0, idle_expires_at: Math.min(now + this.options.idleTtlSec, absoluteExpiresAt) },
    };
    // The create's revision places the session on the bucket's sequence, before or after any marker; it
    // is sealed into the record before the token is handed out, since an entry's own revision is not
    // (a NATS writer re-publishing the sealed bytes would move it past every marker).
    const key = sessionKey(session.sid);
    const createdRev = await this.sessions.create(key, jsonValue(session));
    session.created_rev = createdRev;
    await this.sessions.update(key, jsonValue(session), createdRev);
    return {
      session,
      refreshToken: familyToken(this.options.successorKey, session.sid, 0),
      refreshExpiresIn: session.refresh!.idle_expires_at - now,
    };
  }

  /**
   * Uses a refresh token: the first use rotates it and returns its successor; a use of the token just
   * rotated, within the retry grace and while the successor is unused, returns that same successor
   * (`retried`); any other use of an older generation is reuse.
   */
  async rotate(refreshToken: string, presenter: Presenter = {}): Promise<RotateResult> {
    if (!isRefreshTokenShape(refreshToken)) return { ok: false, reason: 'unknown' };
    if (refreshToken.length === CHAIN_TOKEN_LENGTH) return this.chains.rotate(refreshToken, presenter);
    const presented = parseFamilyToken(this.options.successorKey, refreshToken);
    if (!presented) return { ok: false, reason: 'unknown' };
    // A conflict means another rotation or a revocation wrote first: the next read sees which.
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await this.rotateFamily(presented.sid, presented.gen, presenter);
      if (outcome !== CONFLICT) return outcome;
    }
    throw new Error('refresh rotation kept conflicting');
  }

  /**
   * One read of the session, then (for the current generation) the compare-and-set moving the family on,
   * in flight together with the reads of the `sub` and `all` markers. Rotating a session that the markers
   * turn out to end is harmless: the answer is still the refusal, and the session stays ended.
   */
  private async rotateFamily(
    sid: string,
    gen: number,
    presenter: Presenter,
  ): Promise<RotateResult | typeof CONFLICT> {
    const key = sessionKey(sid);
    const entry = await this.sessions.get(key);
    const session = entryJson<SessionRecord>(entry);
    const family = session?.refresh;
    // Without its create revision a family's login never finished (its token was never handed out).
    const createdRev = session?.created_rev;
    if (!entry || !session || !family || session.sid !== sid || createdRev === undefined)
      return { ok: false, reason: 'unknown' };
    const now = this.now();
    if (gen === family.gen) {
      if (now >= family.idle_expires_at || gen >= MAX_GEN) return { ok: false, reason: 'expired' };
      const ended = this.ended(session, now);
      if (ended) return ended;
      const next: RefreshFamily = {
        gen: gen + 1,
        idle_expires_at: Math.min(now + this.options.idleTtlSec, session.absolute_expires_at),
        rotated_at: now,
        ...(presenter.certThumbprint !== undefined ? { rotated_by_cert: presenter.certThumbprint } : {}),
      };
      const [marked, cas] = await Promise.allSettled([
        this.markedRevoked(session, createdRev),
        this.sessions.update(key, jsonValue({ ...session, refresh: next }), entry.revision),
      ]);
      if (marked.status === 'rejected') throw marked.reason;
      if (marked.value) return { ok: false, reason: 'revoked' };
      if (cas.status === 'rejected') {
        if (!isCasConflict(cas.reason)) throw cas.reason;
        return CONFLICT;
      }
      return this.issued(session, next, false, now);
    }
    if (gen === family.gen - 1) {
      // The token just rotated: within the grace, from the certificate that rotated it, while its
      // successor (the current generation) is unused, the answer is that successor again.
      const grace = this.options.retryGraceSec;
      const inGrace = grace > 0 && family.rotated_at !== undefined && now - family.rotated_at <= grace;
      if (!inGrace || family.rotated_by_cert !== presenter.certThumbprint) return this.reuse(sid);
      if (now >= family.idle_expires_at) return { ok: false, reason: 'expired' };
      const ended = this.ended(session, now);
      if (ended) return ended;
      if (await this.markedRevoked(session, createdRev)) return { ok: false, reason: 'revoked' };
      return this.issued(session, family, true, now);
    }
    // Older generations are reuse; a newer one was never handed out (the MAC checked, so only a store
    // that lost writes could show it): nothing to honour.
    return gen < family.gen ? this.reuse(sid) : { ok: false, reason: 'unknown' };
  }

  /** The answer handing out generation `current.gen` of `session`'s family. */
  private issued(
    session: SessionRecord,
    current: RefreshFamily,
    retried: boolean,
    now: number,
  ): RotateResult {
    return {
      ok: true,
      retried,
      session,
      refreshToken: familyToken(this.options.successorKey, session.sid, current.gen),
      refreshExpiresIn: current.idle_expires_at - now,
    };
  }

  /** Why a session record itself refuses a refresh (revoked, past its end), or undefined. */
  private ended(
    session: SessionRecord,
    now: number,
  ): { ok: false; reason: 'revoked' | 'expired' } | undefined {
    if (session.revoked_at !== undefined) return { ok: false, reason: 'revoked' };
    if (now >= session.absolute_expires_at) return { ok: false, reason: 'expired' };
    return undefined;
  }

  /** True when a `sub` or `all` marker written after the session's create ends it (two reads at once). */
  private async markedRevoked(session: SessionRecord, createdRev: number): Promise<boolean> {
    const [subject, all] = await Promise.all([
      this.sessions.get(SUBJECT_PREFIX + nameKey(session.sub)),
      this.sessions.get(ALL_KEY),
    ]);
    return (
      markerEnds(subject, createdRev, session.created_at) || markerEnds(all, createdRev, session.created_at)
    );
  }

  /** The session a refresh token belongs to (for Revoke with a refresh token), whatever its state. */
  async sessionOfRefreshToken(refreshToken: string): Promise<SessionRecord | undefined> {
    if (!isRefreshTokenShape(refreshToken)) return undefined;
    const sid =
      refreshToken.length === CHAIN_TOKEN_LENGTH
        ? await this.chains.sidOf(refreshToken)
        : parseFamilyToken(this.options.successorKey, refreshToken)?.sid;
    return sid === undefined ? undefined : this.getSession(sid);
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
    // Rotations write the session record too: whoever holds the current token (a thief, after a reuse)
    // could keep it moving. A revocation outlasts them: many attempts, a growing random pause between.
    for (let attempt = 0; attempt < REVOKE_ATTEMPTS; attempt++) {
      if (attempt > 0) await pause(Math.random() * Math.min(50, 2 ** attempt));
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
    // Most subjects have no marker yet (a bulk revocation of many users): one create, no read first.
    try {
      await this.sessions.create(key, jsonValue({ revoked_at: at } satisfies RevokedBefore));
      return;
    } catch (err) {
      if (!isCasConflict(err)) throw err;
    }
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

  /** The live session of a chain token's record, or why there is none. */
  private async liveSession(record: RefreshRecord, now: number): Promise<LiveSession> {
    // Three independent reads in one round trip's time.
    const [session, subject, all] = await Promise.all([
      this.getSession(record.sid),
      this.sessions.get(SUBJECT_PREFIX + nameKey(record.sub)),
      this.sessions.get(ALL_KEY),
    ]);
    if (!session || session.sub !== record.sub) return { ok: false, reason: 'unknown' };
    const createdAt = session.created_at;
    if (markerEnds(subject, record.session_rev, createdAt) || markerEnds(all, record.session_rev, createdAt))
      return { ok: false, reason: 'revoked' };
    return this.ended(session, now) ?? { ok: true, session };
  }

  private async reuse(sid: string): Promise<RotateResult> {
    // Of many concurrent losers only the one that flips the session reports a first detection, so
    // the caller broadcasts one revocation instead of N.
    const outcome = await this.revokeSession(sid, this.now());
    return { ok: false, reason: 'reuse', sid, firstDetection: outcome === 'revoked' };
  }
}
