import {
  connect,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
} from 'nats';
import { MAX_REVOCATION_EVENT_BYTES, natsServersWithCredentials } from '@authmesh/interceptor';

/** The KV buckets of the auth service (fixed names, docs/ARCHITECTURE.md). */
export const BUCKETS = {
  keys: 'AUTHMESH_KEYS',
  users: 'AUTHMESH_USERS',
  clients: 'AUTHMESH_CLIENTS',
  sessions: 'AUTHMESH_SESSIONS',
  refresh: 'AUTHMESH_REFRESH',
  throttle: 'AUTHMESH_THROTTLE',
} as const;

/**
 * Max age of `AUTHMESH_THROTTLE` entries, seconds: an entry goes away this long after its last write, so
 * failure counts expire by themselves and the bucket stays bounded under a spraying attack. Also the
 * longest throttling delay.
 */
export const THROTTLE_MAX_AGE_SEC = 15 * 60;

/** The JetStream stream every revocation is published to. */
export const REVOCATION_STREAM = 'AUTHMESH_REVOCATIONS';
/** The subjects of that stream, `authmesh.revoked.<kind>`. */
export const REVOCATION_SUBJECTS = 'authmesh.revoked.>';
/** Core NATS subject announcing a key rotation, so interceptors refresh their JWKS at once. */
export const KEYS_ROTATED_SUBJECT = 'authmesh.keys.rotated';

/**
 * The reply-subject prefix of the auth service's and the CLI's connections. Not the default `_INBOX`:
 * the replies they get (bucket reads: password hashes, sealed keys) then go to subjects that a protected
 * service, allowed to subscribe only to `_INBOX.>` (deploy/nats-server.conf), can never listen on.
 */
export const AUTH_INBOX_PREFIX = '_AUTHMESH_AUTH_INBOX';

/** Every bucket, opened (created on first use). */
export type AuthBuckets = { readonly [K in keyof typeof BUCKETS]: KV };

/** Options of `connectNats`. */
export interface ConnectNatsOptions {
  /** Connection name shown by the server (`authmesh-auth`, `authmesh-cli`). */
  name: string;
  /** Reconnect forever (a service) or give up quickly (a CLI command). Default true. */
  reconnectForever?: boolean;
  /** Connect timeout per attempt, ms (default 5000). */
  timeoutMs?: number;
}

/**
 * Connects to NATS (`servers` from `NATS_URL`, credentials as `user:password@` in the URLs). When
 * nothing answers, rejects with a message naming the servers (credentials stripped) and `NATS_URL`,
 * rather than the client's bare error code.
 */
export async function connectNats(
  servers: readonly string[],
  options: ConnectNatsOptions,
): Promise<NatsConnection> {
  const target = natsServersWithCredentials(servers, 'NATS_URL');
  try {
    return await connect({
      ...target,
      inboxPrefix: AUTH_INBOX_PREFIX,
      name: options.name,
      timeout: options.timeoutMs ?? 5000,
      maxReconnectAttempts: options.reconnectForever === false ? 0 : -1,
      // Back within about half a second of the server; a server that stays down sees one attempt per
      // 250–500 ms from each process, spread by the jitter rather than in lockstep.
      reconnectTimeWait: 250,
      reconnectJitter: 250,
      // nats.js otherwise builds two Error objects (stack captures) per request to decorate a timeout
      // that almost never happens: about a fifth of a Refresh's CPU, which is six KV requests.
      noAsyncTraces: true,
    });
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? (cause as Error).message;
    throw new Error(`cannot connect to NATS at ${servers.map(redactUrl).join(',')} (set NATS_URL): ${code}`, {
      cause,
    });
  }
}

/** A NATS URL without user:password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Opens one KV bucket, creating it with `replicas` and history 1 when missing: compare-and-set works on the
 * last revision, so no older values are needed (and none linger: deleted secrets are gone). With
 * `maxAgeSec`, entries older than that are dropped by JetStream; an existing bucket's limit is only ever
 * raised to it, never lowered (a process with a shorter setting must not drop what the running service
 * still needs), and a bucket without a limit keeps none.
 */
export async function openBucket(
  js: JetStreamClient,
  name: string,
  replicas: number,
  maxAgeSec?: number,
): Promise<KV> {
  const ttl = maxAgeSec === undefined ? undefined : maxAgeSec * 1000;
  const kv = await js.views.kv(name, { replicas, history: 1, ...(ttl !== undefined ? { ttl } : {}) });
  if (ttl !== undefined) {
    // views.kv only binds to an existing bucket: raise its max age when it is shorter.
    const jsm = await js.jetstreamManager();
    const info = await jsm.streams.info(`KV_${name}`);
    const raised = raisedMaxAge(info.config.max_age, nanos(ttl));
    if (raised !== info.config.max_age)
      await jsm.streams.update(info.config.name, { ...info.config, max_age: raised });
  }
  return kv;
}

/** A max age (ns; 0 = unlimited) raised to `wanted`, never lowered. */
export function raisedMaxAge(current: number, wanted: number): number {
  return current === 0 ? 0 : Math.max(current, wanted);
}

/**
 * Opens (creating when missing) every auth-service bucket. `sessionRetentionSec` (the absolute refresh
 * lifetime) bounds how long refresh-token and session records are kept: no refresh token, rotated or not,
 * and no session or revocation marker can matter longer, so storage stays bounded.
 */
export async function openBuckets(
  js: JetStreamClient,
  replicas: number,
  sessionRetentionSec?: number,
): Promise<AuthBuckets> {
  const retained = new Set<string>([BUCKETS.refresh, BUCKETS.sessions]);
  const entries = await Promise.all(
    Object.entries(BUCKETS).map(
      async ([k, name]) =>
        [
          k,
          await openBucket(
            js,
            name,
            replicas,
            name === BUCKETS.throttle
              ? THROTTLE_MAX_AGE_SEC
              : retained.has(name)
                ? sessionRetentionSec
                : undefined,
          ),
        ] as const,
    ),
  );
  return Object.freeze(Object.fromEntries(entries)) as AuthBuckets;
}

/**
 * Largest message the revocation stream stores: an event's bound plus room for headers (the server counts
 * both). Interceptors drop anything larger anyway; storing it would only let a NATS writer make every
 * replay move megabytes.
 */
export const REVOCATION_MAX_MSG_SIZE = MAX_REVOCATION_EVENT_BYTES + 1024;

/** Options of `ensureRevocationStream`. */
export interface RevocationStreamOptions {
  replicas: number;
  /** Longest access-token lifetime plus clock skew, seconds: events must outlive every token they match. */
  maxTokenLifetimeSec: number;
}

/**
 * Creates the revocation stream, or raises its limits when it exists (idempotent; replicas racing here is
 * harmless). Max age = the longest token lifetime + a minute, so replaying the stream from the start yields
 * exactly the revocations that can still matter (DESIGN.md, "Revocation over NATS"). An existing stream's
 * max age and replicas are only ever raised: a process configured with a shorter TTL (a CLI run from
 * another shell, a replica with other settings) must never age out revocations the service still needs.
 */
export async function ensureRevocationStream(
  jsm: JetStreamManager,
  options: RevocationStreamOptions,
): Promise<void> {
  const maxAgeSec = options.maxTokenLifetimeSec + 60;
  const config = {
    name: REVOCATION_STREAM,
    subjects: [REVOCATION_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas,
    max_age: nanos(maxAgeSec * 1000),
    // The server refuses a duplicate window longer than max age.
    duplicate_window: nanos(Math.min(120, maxAgeSec) * 1000),
    max_msg_size: REVOCATION_MAX_MSG_SIZE,
  };
  try {
    const info = await jsm.streams.info(REVOCATION_STREAM);
    const maxAge = raisedMaxAge(info.config.max_age, config.max_age);
    const replicas = Math.max(info.config.num_replicas, config.num_replicas);
    // A stream made before the bound (no limit: -1 or 0) gets it; a tighter one set by hand is kept.
    const current = info.config.max_msg_size ?? -1;
    const maxMsgSize = current > 0 ? Math.min(current, REVOCATION_MAX_MSG_SIZE) : REVOCATION_MAX_MSG_SIZE;
    if (
      maxAge !== info.config.max_age ||
      replicas !== info.config.num_replicas ||
      maxMsgSize !== info.config.max_msg_size
    ) {
      await jsm.streams.update(REVOCATION_STREAM, {
        ...info.config,
        max_age: maxAge,
        num_replicas: replicas,
        max_msg_size: maxMsgSize,
      });
    }
  } catch (err) {
    if ((err as Error).message !== 'stream not found') throw err;
    try {
      await jsm.streams.add(config);
    } catch (raced) {
      // Another replica created it between our info and add: that is the outcome we wanted.
      if (!/already in use/.test((raced as Error).message)) throw raced;
    }
  }
}

/** Whether a connection is currently connected, tracked from its status events (for `/readyz`). */
export function trackConnection(nc: NatsConnection, onEvent?: (type: string) => void): () => boolean {
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connected = true;
      onEvent?.(s.type);
    }
  })().catch(() => undefined);
  return () => connected && !nc.isClosed();
}

/**
 * Runs a JetStream setup step again until it succeeds or `forMs` has passed: right after a cluster
 * forms (or a node restarts) the meta leader may not be elected yet, and stream or bucket creation
 * answers "no responders", a timeout or "insufficient resources" for a few seconds.
 */
/** A JetStream cluster still forming: no meta leader or not enough known peers for the replicas asked. */
export function isClusterForming(err: unknown): boolean {
  const text = String((err as { message?: unknown } | undefined)?.message ?? err);
  return /no suitable peers|insufficient resources|no responders|503|TIMEOUT|timeout/i.test(text);
}

export async function retryJetStreamSetup<T>(
  step: () => Promise<T>,
  options: {
    forMs?: number;
    onRetry?: (err: unknown, attempt: number) => void;
    /** Which errors are worth retrying; default every one. */
    retryIf?: (err: unknown) => boolean;
  } = {},
): Promise<T> {
  const deadline = Date.now() + (options.forMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() >= deadline || options.retryIf?.(err) === false) throw err;
      options.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 2000)));
    }
  }
}
