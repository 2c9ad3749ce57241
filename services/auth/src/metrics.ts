import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { TokenMinter } from './tokens/minter.types.js';

/** The auth service's Prometheus metrics (served at `/metrics`). */
export interface AuthMetrics {
  readonly registry: Registry;
  /** Wraps a minter so every token signed is counted (by signing key id). */
  countMints(minter: TokenMinter): TokenMinter;
  /** For the guard's `onRejected`: calls refused, by reason code. Never the token. */
  rejected(reason: string): void;
  /** Key ring changes seen by this replica. */
  keyRingChanged(): void;
  /**
   * Counts an audit event: issued and refreshed tokens, failed and throttled logins, revocations,
   * detected refresh-token reuse, key rotations (`authmesh_auth_events_total{event}`).
   */
  event(name: string): void;
  /** One password hash computed to check a login (real or dummy record), so throttled attempts can be seen not to hash. */
  passwordChecked(): void;
  /** A record read back from NATS failed its integrity check and was refused (by bucket). */
  recordRefused(bucket: string): void;
  /** 1 while NATS is connected (sampled at scrape time). */
  trackNats(connected: () => boolean): void;
  /**
   * Mesh gauges, sampled at scrape time: live instances per audience and the worst lag (stream last
   * sequence minus the lowest applied sequence of a live instance).
   */
  trackMesh(source: MeshGaugeSource): void;
  render(): Promise<{ contentType: string; body: string }>;
}

/** Options of `createAuthMetrics`. */
export interface AuthMetricsOptions {
  /** `AUTHMESH_ENV` in effect, exposed as `authmesh_auth_mode{mode}` 1. */
  mode: string;
}

/** What the mesh gauges read (the live set and the stream), at scrape time only. */
export interface MeshGaugeSource {
  instances(): { audience?: string; applied_sequence?: unknown }[];
  streamLastSequence(): Promise<number>;
}

/** A registry of its own (not the global one), so several services in one test process don't collide. */
export function createAuthMetrics(options: AuthMetricsOptions): AuthMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'authmesh_auth_mode',
    help: 'The mode the auth service runs in (AUTHMESH_ENV): 1 for the one in effect',
    labelNames: ['mode'],
    registers: [registry],
  }).set({ mode: options.mode }, 1);
  const refused = new Counter({
    name: 'authmesh_records_refused_total',
    help: 'Records read back from NATS that failed their integrity check (not written under this KEK) and were refused, by bucket',
    labelNames: ['bucket'],
    registers: [registry],
  });
  collectDefaultMetrics({ register: registry, prefix: 'authmesh_auth_' });
  const minted = new Counter({
    name: 'authmesh_tokens_issued_total',
    help: 'Access tokens signed',
    labelNames: ['kid'],
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'authmesh_auth_rejections_total',
    help: 'Calls to the auth service refused by its guard, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const ring = new Counter({
    name: 'authmesh_key_ring_changes_total',
    help: 'Key ring changes applied',
    registers: [registry],
  });
  const events = new Counter({
    name: 'authmesh_auth_events_total',
    help: 'Audit events by name: issued, refreshed, login_failed, login_throttled, revoked, reuse_detected, key_rotated',
    labelNames: ['event'],
    registers: [registry],
  });
  const passwordChecks = new Counter({
    name: 'authmesh_password_checks_total',
    help: 'Password hashes computed to check a login (throttled attempts compute none)',
    registers: [registry],
  });
  let natsUp: () => boolean = () => false;
  new Gauge({
    name: 'authmesh_nats_connected',
    help: '1 while the NATS connection is up',
    registers: [registry],
    collect() {
      this.set(natsUp() ? 1 : 0);
    },
  });
  let mesh: MeshGaugeSource | undefined;
  new Gauge({
    name: 'authmesh_mesh_live_instances',
    help: 'Live protected-service instances heard on authmesh.mesh.>, by audience',
    labelNames: ['audience'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const i of mesh?.instances() ?? [])
        counts.set(i.audience ?? '', (counts.get(i.audience ?? '') ?? 0) + 1);
      for (const [audience, n] of counts) this.set({ audience }, n);
    },
  });
  new Gauge({
    name: 'authmesh_mesh_worst_lag',
    help: 'Revocation-stream events the furthest-behind live instance has not applied',
    registers: [registry],
    async collect() {
      if (!mesh) return this.set(0);
      const instances = mesh.instances();
      const last = await mesh.streamLastSequence().catch(() => undefined);
      if (last === undefined || instances.length === 0) return this.set(0);
      const lowest = Math.min(...instances.map((i) => Number(i.applied_sequence ?? 0)));
      this.set(Math.max(0, last - lowest));
    },
  });
  return {
    registry,
    trackMesh: (source) => (mesh = source),
    countMints: (minter) => ({
      async mint(request) {
        const t = await minter.mint(request);
        minted.inc({ kid: t.kid });
        return t;
      },
    }),
    rejected: (reason) => rejections.inc({ reason }),
    keyRingChanged: () => ring.inc(),
    event: (name) => events.inc({ event: name }),
    passwordChecked: () => passwordChecks.inc(),
    recordRefused: (bucket) => refused.inc({ bucket }),
    trackNats: (connected) => (natsUp = connected),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
