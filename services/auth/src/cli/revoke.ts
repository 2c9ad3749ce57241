import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { RevokeResponse } from '@authmesh/interceptor/proto';
import { loadConfig, type AuthConfig } from '../config.js';
import { Kek } from '../keys/kek.js';
import { NatsKeyManager } from '../keys/key-manager.js';
import { connectNats, KEYS_ROTATED_SUBJECT } from '../nats.js';
import { resolveIssuer } from '../issuer.js';
import { RevocationPublisher } from '../revocations.js';
import { applyRevocation, grantSettings, MAX_REVOCATION_VALUE, type RevocationTarget } from '../rpc/index.js';
import { SessionStore, SUCCESSOR_KEY_PURPOSE } from '../stores/sessions.js';
import { UsageError, type CommandIo } from './grant-args.js';
import { openCliStore, storedLifetimes } from './store.js';
import { createAudit } from '../audit.js';
import { knownMesh } from '../mesh/known-mesh.js';
import { MESH_KEY_PURPOSE, MeshKeys } from '../mesh/announcement-keys.js';
import { MAX_REVOKE_WAIT_MS } from '../mesh/mesh-view.js';

/** Usage line of `authmesh revoke`. */
export const REVOKE_USAGE =
  'authmesh revoke --subject S | --session SID | --jti J | --key KID | --all [--reason R] [--wait MS]';

/**
 * `authmesh revoke --subject S | --session SID | --jti J | --key KID | --all [--reason R]`: the same path
 * as the Revoke RPC (sessions marked in KV, key withdrawn, then a signed event published and acked),
 * run with the service's environment (NATS_URL, AUTHMESH_KEK). Prints the RevokeResponse as JSON.
 */
export async function revokeCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      subject: { type: 'string' },
      session: { type: 'string' },
      jti: { type: 'string' },
      key: { type: 'string' },
      all: { type: 'boolean' },
      reason: { type: 'string' },
      wait: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument\nusage: ${REVOKE_USAGE}`);
  const targets: RevocationTarget[] = [
    ...(values.subject !== undefined ? [{ kind: 'sub' as const, value: values.subject }] : []),
    ...(values.session !== undefined ? [{ kind: 'sid' as const, value: values.session }] : []),
    ...(values.jti !== undefined ? [{ kind: 'jti' as const, value: values.jti }] : []),
    ...(values.key !== undefined ? [{ kind: 'kid' as const, value: values.key }] : []),
    ...(values.all ? [{ kind: 'all' as const, value: '' }] : []),
  ];
  if (targets.length !== 1) throw new UsageError(`name exactly one target\nusage: ${REVOKE_USAGE}`);
  const target = targets[0]!;
  if (target.kind !== 'all' && (target.value === '' || target.value.length > MAX_REVOCATION_VALUE)) {
    throw new UsageError(`the ${target.kind} to revoke must be 1 to ${MAX_REVOCATION_VALUE} characters`);
  }
  const reason = values.reason ?? 'revoked by operator';
  if (reason.length > 200) throw new UsageError('--reason is too long (max 200 characters)');

  let waitMs = 0;
  if (values.wait !== undefined) {
    waitMs = Number(values.wait);
    if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > MAX_REVOKE_WAIT_MS)
      throw new UsageError(`--wait must be a number of milliseconds from 1 to ${MAX_REVOKE_WAIT_MS}`);
  }

  const config = loadConfig(io.env);
  const response = await revokeWithConfig(config, target, reason, io, waitMs);
  io.stdout.write(`${JSON.stringify({ event: 'revoked', ...response })}\n`);
  if (waitMs === 0) return 0;
  const seq = Number(response.sequence);
  io.stderr.write(`applied by ${response.applied?.length ?? 0} instance(s) within ${waitMs} ms\n`);
  for (const p of response.pending ?? []) {
    const lag = seq - Number(p.applied_sequence ?? 0);
    io.stderr.write(
      `pending: ${p.instance_id} audience=${p.audience || '-'} label=${p.label || '-'} applied_sequence=${String(p.applied_sequence)} lag=${lag}\n`,
    );
  }
  // Non-zero: some instance that was live did not confirm the revocation in time.
  return (response.pending?.length ?? 0) > 0 ? 1 : 0;
}

/**
 * Applies one revocation as the operator, with the service's configuration: sessions marked in KV, key
 * withdrawn, then a signed event published and acked (`authmesh revoke`, and `user add` replacing a user).
 */
export async function revokeWithConfig(
  config: AuthConfig,
  target: RevocationTarget,
  reason: string,
  io: CommandIo,
  waitMs: number,
): Promise<RevokeResponse> {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  let mesh: Awaited<ReturnType<typeof knownMesh>> | undefined;
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const store = await openCliStore(nc, config, io);
    if (waitMs > 0) {
      // Announcements are checked with the KEK, like the auth service does: a forged one never confirms.
      mesh = await knownMesh(nc, new MeshKeys(new Kek(store.kek).deriveKey(MESH_KEY_PURPOSE)));
      if (mesh.source === 'listened')
        io.stderr.write(
          'no auth replica answered the mesh roster request: listened for announcements instead\n',
        );
    }
    // Key pruning, the stream's max age and the event's lifetime follow what the service runs with
    // (stored in KV), never this shell's AUTHMESH_ACCESS_TTL / AUTHMESH_CLOCK_SKEW.
    const lifetimes = storedLifetimes(store);
    const { records, keys: keysBucket } = store;
    const kek = new Kek(store.kek);
    const keys = await NatsKeyManager.open({
      kv: keysBucket,
      kek,
      alg: config.signingAlg,
      accessTtlSec: lifetimes.accessTtlSec,
      clockSkewSec: lifetimes.clockSkewSec,
      rotationIntervalSec: 0,
      create: false,
      watch: false,
      announce: (event) =>
        nc.publish(KEYS_ROTATED_SUBJECT, JSON.stringify({ ...event, at: Math.floor(Date.now() / 1000) })),
    });
    try {
      const revocations = await RevocationPublisher.open({
        js,
        nc,
        jsm,
        keys,
        // The running service may follow a port-0 HTTP address: sign with the issuer it recorded.
        issuer: await resolveIssuer(config, keysBucket),
        maxTokenLifetimeSec: lifetimes.accessTtlSec + lifetimes.clockSkewSec,
        replicas: config.natsReplicas,
      });
      const sessions = await SessionStore.open(js, {
        idleTtlSec: config.refreshIdleTtlSec,
        absoluteTtlSec: config.refreshAbsoluteTtlSec,
        successorKey: kek.deriveKey(SUCCESSOR_KEY_PURPOSE),
        integrity: records,
      });
      // The instances live before the publication are the ones that must confirm it.
      const live = mesh?.live.liveIds();
      const applied = await applyRevocation(
        {
          sessions,
          keys,
          revocations,
          settings: grantSettings(config, () => lifetimes),
          log,
        },
        target,
        reason,
      );
      const done =
        mesh && live
          ? { ...applied, ...(await mesh.live.waitApplied(live, Number(applied.sequence), waitMs)) }
          : applied;
      // The same audit event as the Revoke RPC (the service's metrics count it from this subject).
      createAudit({ nc }).record({
        event: 'revoked',
        reason: `${target.kind}${target.value ? ` ${target.value}` : ''} by operator (authmesh revoke): ${reason}`,
      });
      return done;
    } finally {
      await keys.close();
    }
  } finally {
    mesh?.live.close();
    await nc.flush().catch(() => undefined);
    await nc.close();
  }
}
