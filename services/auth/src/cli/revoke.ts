import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { RevokeResponse } from '@authmesh/interceptor/proto';
import { loadConfig, type AuthConfig } from '../config.js';
import { Kek } from '../keys/kek.js';
import { NatsKeyManager } from '../keys/key-manager.js';
import { connectNats, KEYS_ROTATED_SUBJECT } from '../nats.js';
import { resolveIssuer } from '../issuer.js';
import { RevocationPublisher } from '../revocations.js';
import { RequestPipeline } from '../request-pipeline.js';
import {
  applyRevocation,
  applyRevocationBatch,
  batchChunks,
  grantSettings,
  MAX_REVOCATION_VALUE,
  type RevocationDeps,
  type RevocationTarget,
} from '../rpc/index.js';
import { SessionStore, SUCCESSOR_KEY_PURPOSE } from '../stores/sessions.js';
import { UsageError, type CommandIo } from './grant-args.js';
import { openCliStore, storedLifetimes } from './store.js';
import { createAudit } from '../audit.js';
import { knownMesh } from '../mesh/known-mesh.js';
import { MESH_KEY_PURPOSE, MeshKeys } from '../mesh/announcement-keys.js';
import { MAX_REVOKE_WAIT_MS } from '../mesh/mesh-view.js';

/** Usage line of `authmesh revoke`. */
export const REVOKE_USAGE =
  'authmesh revoke --subject S | --session SID | --jti J | --key KID | --all | --subjects-file FILE [--batch] [--reason R] [--wait MS]';

/** Revocations of a `--subjects-file` in flight at once (each still durable before it counts). */
const BULK_IN_FLIGHT = 256;
/** Batch events of a `--subjects-file --batch` in flight at once (each with its KV marks). */
const BATCHES_IN_FLIGHT = 4;
/** Most subjects one `--subjects-file` may name. */
const MAX_BULK_SUBJECTS = 1_000_000;

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
      'subjects-file': { type: 'string' },
      batch: { type: 'boolean' },
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
  const bulkFile = values['subjects-file'];
  if (targets.length + (bulkFile === undefined ? 0 : 1) !== 1)
    throw new UsageError(`name exactly one target\nusage: ${REVOKE_USAGE}`);
  if (values.batch && bulkFile === undefined)
    throw new UsageError(`--batch goes with --subjects-file\nusage: ${REVOKE_USAGE}`);
  const bulk = bulkFile === undefined ? undefined : await readSubjects(bulkFile);
  const target = targets[0] ?? { kind: 'sub' as const, value: '' };
  if (!bulk && target.kind !== 'all' && (target.value === '' || target.value.length > MAX_REVOCATION_VALUE)) {
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
  if (bulk) return revokeSubjects(config, bulk, reason, io, waitMs, values.batch === true);
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
  const [done] = await revokeManyWithConfig(config, [target], reason, io, waitMs);
  if (done instanceof Error) throw done;
  return done!;
}

/**
 * {@link revokeWithConfig} for many targets on one connection: up to BULK_IN_FLIGHT revocations in
 * flight, each through the same path (KV marks, then its signed event, awaited until acked). The
 * answer of each target, or the error that stopped it; with `waitMs`, the confirmations of the
 * highest sequence (which covers every earlier one: instances apply the stream in order).
 * With `batch` (targets all of kind jti, sid or sub), they go as batch events instead of one event each.
 */
export async function revokeManyWithConfig(
  config: AuthConfig,
  targets: readonly RevocationTarget[],
  reason: string,
  io: CommandIo,
  waitMs: number,
  batch = false,
): Promise<(RevokeResponse | Error)[]> {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  let mesh: Awaited<ReturnType<typeof knownMesh>> | undefined;
  // The markers' KV writes and the events' acked publishes of a bulk revocation, as the service sends
  // them: many in flight on one connection, each turn's requests in one write.
  const requests = new RequestPipeline(nc);
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
        nc,
        requests,
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
        pipeline: { jsm, requests },
      });
      // The instances live before the publication are the ones that must confirm it.
      const live = mesh?.live.liveIds();
      const deps = {
        sessions,
        keys,
        revocations,
        settings: grantSettings(config, () => lifetimes),
        log,
      };
      const audit = createAudit({ nc });
      const answers: (RevokeResponse | Error)[] = new Array(targets.length);
      await (batch ? revokeInBatches : revokeOneByOne)(deps, targets, reason, answers, audit);
      if (!mesh || !live) return answers;
      // A loop, not Math.max(...): a million arguments would overflow the stack.
      let last = 0;
      for (const a of answers) if (!(a instanceof Error)) last = Math.max(last, Number(a.sequence));
      if (last === 0) return answers;
      const receipt = await mesh.live.waitApplied(live, last, waitMs);
      return answers.map((a) => (a instanceof Error ? a : { ...a, ...receipt }));
    } finally {
      await keys.close();
    }
  } finally {
    mesh?.live.close();
    requests.close();
    await nc.flush().catch(() => undefined);
    await nc.close();
  }
}

/** The targets one event each, BULK_IN_FLIGHT at once: each target's answer, or the error that stopped it. */
async function revokeOneByOne(
  deps: RevocationDeps,
  targets: readonly RevocationTarget[],
  reason: string,
  answers: (RevokeResponse | Error)[],
  audit: ReturnType<typeof createAudit>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i]!;
      try {
        answers[i] = await applyRevocation(deps, target, reason);
        // The same audit event as the Revoke RPC (the service's metrics count it from this subject).
        audit.record({
          event: 'revoked',
          reason: `${target.kind}${target.value ? ` ${target.value}` : ''} by operator (authmesh revoke): ${reason}`,
        });
      } catch (err) {
        answers[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_IN_FLIGHT, targets.length) }, worker));
}

/**
 * The targets (all of one kind: jti, sid or sub) as batch events, BATCHES_IN_FLIGHT at once: each
 * target's answer is its batch's, given once that batch's event was acked.
 */
async function revokeInBatches(
  deps: RevocationDeps,
  targets: readonly RevocationTarget[],
  reason: string,
  answers: (RevokeResponse | Error)[],
  audit: ReturnType<typeof createAudit>,
): Promise<void> {
  const kind = targets[0]?.kind;
  if (kind !== 'jti' && kind !== 'sid' && kind !== 'sub')
    throw new TypeError('only jti, sid or sub go in batches');
  if (targets.some((t) => t.kind !== kind)) throw new TypeError('a batch holds one kind');
  const chunks = batchChunks(targets.map((t) => t.value));
  let next = 0;
  let offset = 0;
  const starts = chunks.map((c) => ((offset += c.length), offset - c.length));
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const i = next++;
      const values = chunks[i]!;
      let answer: { at: number; sequence: number } | Error;
      try {
        answer = await applyRevocationBatch(deps, kind, values, reason);
      } catch (err) {
        answer = err instanceof Error ? err : new Error(String(err));
      }
      values.forEach((value, j) => {
        answers[starts[i]! + j] = answer instanceof Error ? answer : { kind, value, ...answer };
        if (!(answer instanceof Error))
          audit.record({
            event: 'revoked',
            reason: `${kind} ${value} by operator (authmesh revoke --batch): ${reason}`,
          });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCHES_IN_FLIGHT, chunks.length) }, worker));
}

/** Reads a `--subjects-file`: one subject per line; blank lines are skipped, duplicates revoked once. */
async function readSubjects(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--subjects-file: cannot read ${file}: ${(err as Error).message}`);
  }
  const subjects = [...new Set(text.split(/\r?\n/).map((l) => l.trim()))].filter((l) => l !== '');
  if (subjects.length === 0) throw new UsageError('--subjects-file: no subjects in the file');
  if (subjects.length > MAX_BULK_SUBJECTS)
    throw new UsageError(`--subjects-file: at most ${MAX_BULK_SUBJECTS} subjects`);
  const long = subjects.findIndex((v) => v.length > MAX_REVOCATION_VALUE);
  if (long >= 0)
    throw new UsageError(
      `--subjects-file: subject ${long + 1} is longer than ${MAX_REVOCATION_VALUE} characters`,
    );
  return subjects;
}

/**
 * `authmesh revoke --subjects-file FILE`: every session and token of each subject, as `--subject` would,
 * many in flight. Prints one JSON summary (count, the sequences); each failure on stderr; exits 1 when
 * any subject was not revoked (or, with --wait, some live instance did not confirm in time).
 */
async function revokeSubjects(
  config: AuthConfig,
  subjects: string[],
  reason: string,
  io: CommandIo,
  waitMs: number,
  batch: boolean,
): Promise<number> {
  const t0 = Date.now();
  const answers = await revokeManyWithConfig(
    config,
    subjects.map((value) => ({ kind: 'sub', value })),
    reason,
    io,
    waitMs,
    batch,
  );
  let count = 0;
  let first = Infinity;
  let last = 0;
  answers.forEach((a, i) => {
    if (a instanceof Error) return void io.stderr.write(`not revoked: ${subjects[i]}: ${a.message}\n`);
    const seq = Number(a.sequence);
    count++;
    first = Math.min(first, seq);
    last = Math.max(last, seq);
  });
  const failed = subjects.length - count;
  const receipt = answers.find((a): a is RevokeResponse => !(a instanceof Error));
  io.stdout.write(
    `${JSON.stringify({
      event: 'revoked',
      kind: 'sub',
      count,
      failed,
      first_sequence: count ? first : null,
      last_sequence: count ? last : null,
      elapsed_ms: Date.now() - t0,
    })}\n`,
  );
  const pending = waitMs > 0 ? (receipt?.pending?.length ?? 0) : 0;
  if (waitMs > 0)
    io.stderr.write(`applied by ${receipt?.applied?.length ?? 0} instance(s) within ${waitMs} ms\n`);
  for (const p of receipt?.pending ?? [])
    io.stderr.write(`pending: ${p.instance_id} applied_sequence=${String(p.applied_sequence)}\n`);
  return failed > 0 || pending > 0 ? 1 : 0;
}
