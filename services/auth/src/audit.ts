import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';

/** Core NATS subject prefix of audit events: `authmesh.audit.<event>` (docs/ARCHITECTURE.md). */
export const AUDIT_SUBJECT_PREFIX = 'authmesh.audit.';

/** What happened. `login_throttled` extends the list: a refused login is worth seeing too. */
export type AuditEventName =
  'issued' | 'refreshed' | 'reuse_detected' | 'revoked' | 'login_failed' | 'login_throttled' | 'key_rotated';

/**
 * One audit event. Identifiers only: never a token, secret, password or hash (the fields below are
 * the whole vocabulary; `record` copies these and nothing else).
 */
export interface AuditEvent {
  event: AuditEventName;
  /** Subject (user name or client id). */
  sub?: string;
  client_id?: string;
  /** Session (refresh family). */
  sid?: string;
  /** Access token id. */
  jti?: string;
  /** Signing key id. */
  kid?: string;
  /** Caller address (`ipv4:127.0.0.1:5555`), for failed and throttled logins. */
  peer?: string;
  /** Short explanation: a revocation's kind and reason, why a login failed. */
  reason?: string;
}

/** The audit trail of one auth service replica. */
export interface Audit {
  /** Publishes `authmesh.audit.<event>` (fire and forget: auditing never fails a call) and logs it. */
  record(event: AuditEvent): void;
}

/** Options of `createAudit`. */
export interface AuditOptions {
  /** Core NATS connection (no JetStream: subscribers that want durability can add a stream). */
  nc: { publish(subject: string, data: string): void };
  /** Where each event is also logged (`info`); the CLI, whose stdout is for results, passes none. */
  log?: Logger;
  /** Called for each event this trail records (the service's metrics use `countAuditEvents` instead). */
  onEvent?: (event: AuditEventName) => void;
}

const FIELDS = ['sub', 'client_id', 'sid', 'jti', 'kid', 'peer', 'reason'] as const;
const NAMES = new Set<string>([
  'issued',
  'refreshed',
  'reuse_detected',
  'revoked',
  'login_failed',
  'login_throttled',
  'key_rotated',
]);
/** Longest field value kept: identifiers are short; a longer value is cut, never a call failure. */
const MAX_FIELD = 256;

/** Builds the audit trail: each event as JSON `{event, at, ...}` on NATS and as a pino `info` line. */
export function createAudit(options: AuditOptions): Audit {
  if (typeof options?.nc?.publish !== 'function') throw new TypeError('nc: must be a NATS connection');
  if (options.log !== undefined && typeof options.log.info !== 'function')
    throw new TypeError('log: must be a pino logger');
  const { nc, log, onEvent } = options;
  return {
    record(input) {
      if (!NAMES.has(input.event)) return;
      // Copy an allowlist of fields: whatever else a caller's object holds stays out of the trail.
      const event: Record<string, string | number> = {
        event: input.event,
        at: Math.floor(Date.now() / 1000),
      };
      for (const f of FIELDS) {
        const v = input[f];
        if (typeof v === 'string' && v !== '') event[f] = v.length > MAX_FIELD ? v.slice(0, MAX_FIELD) : v;
      }
      try {
        nc.publish(AUDIT_SUBJECT_PREFIX + input.event, JSON.stringify(event));
      } catch (err) {
        // A closed or draining connection: the log line below still records the event.
        log?.warn(
          { err: { message: (err as Error).message }, audit_event: input.event },
          'audit publish failed',
        );
      }
      log?.info({ audit: event }, `audit ${input.event}`);
      onEvent?.(input.event);
    },
  };
}

/** The queue group the auth service replicas count audit events in: each event lands on one replica. */
export const AUDIT_METRICS_QUEUE = 'authmesh-auth-metrics';

/**
 * Counts the audit events seen on `authmesh.audit.>` rather than the calls this replica makes, so every
 * path is counted exactly once whoever emitted it: a Revoke RPC on any replica, `authmesh revoke` or
 * `keys rotate` from the CLI, reuse detection. The queue group makes the replicas share the events
 * (sum `authmesh_auth_events_total` over replicas for the mesh's total).
 */
export function countAuditEvents(
  nc: Pick<NatsConnection, 'subscribe'>,
  onEvent: (event: AuditEventName) => void,
): { close(): void } {
  const sub = nc.subscribe(`${AUDIT_SUBJECT_PREFIX}>`, {
    queue: AUDIT_METRICS_QUEUE,
    callback: (err, msg) => {
      if (err) return;
      const name = msg.subject.slice(AUDIT_SUBJECT_PREFIX.length);
      if (NAMES.has(name)) onEvent(name as AuditEventName);
    },
  });
  return { close: () => sub.unsubscribe() };
}
