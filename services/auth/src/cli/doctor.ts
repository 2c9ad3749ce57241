import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { JetStreamManager, KV, KvEntry, NatsConnection } from 'nats';
import { channelCredentials, tlsFromEnv } from '@authmesh/interceptor';
import { loadConfig, type AuthConfig } from '../config.js';
import { DEV_KEK_KEY } from '../keys/dev-kek.js';
import { Kek } from '../keys/kek.js';
import { RING_KEY } from '../keys/key-manager.js';
import { parseRing } from '../keys/ring.js';
import { RecordMac, unverifiedBody } from '../stores/record-mac.js';
import { BUCKETS, connectNats, REVOCATION_STREAM, REVOCATION_SUBJECTS } from '../nats.js';
import { unexpectedArgument, type Command } from './command.js';

/** One check's verdict; `fix` says what to do when it failed. Never a secret in any field. */
interface Check {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const USAGE = `usage: authmesh doctor [--json]

Checks what the auth service and the interceptors depend on and says what to do about each failure:
the configuration, NATS reachable, JetStream enabled, the KV buckets and the revocation stream with
their settings, the key ring opening with the KEK, and, when AUTHMESH_AUTH_TARGET / AUTHMESH_ISSUER are
set, the auth service's gRPC health and its OpenID configuration. Read-only: creates nothing.
Exit code 0 when every check passes, 1 otherwise. --json prints one JSON object per check.

Environment: NATS_URL, AUTHMESH_KEK (or AUTHMESH_ENV=development), AUTHMESH_ACCESS_TTL,
AUTHMESH_CLOCK_SKEW, AUTHMESH_NATS_REPLICAS, AUTHMESH_AUTH_TARGET, AUTHMESH_ISSUER, AUTHMESH_TLS_*.`;

/** `authmesh doctor`: a read-only health report of an authmesh installation. */
export const doctor: Command = {
  name: 'doctor',
  summary: 'check NATS, JetStream, buckets, stream, keys and the auth service; say what is wrong',
  usage: USAGE,
  async run(argv, io) {
    const json = io.json === true || argv.includes('--json');
    const unknown = argv.find((a) => a !== '--json');
    if (unknown !== undefined) throw unexpectedArgument(unknown);
    const checks: Check[] = [];
    const report = (c: Check): void => {
      checks.push(c);
      if (json) io.stdout.write(`${JSON.stringify(c)}\n`);
      else
        io.stdout.write(
          `${c.ok ? 'ok  ' : 'FAIL'}  ${c.check}: ${c.detail}${c.fix ? `\n      → ${c.fix}` : ''}\n`,
        );
    };
    await runChecks(io.env, report);
    const failed = checks.filter((c) => !c.ok).length;
    if (!json) io.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check(s) failed\n`);
    return failed === 0 ? 0 : 1;
  },
};

async function runChecks(env: NodeJS.ProcessEnv, report: (c: Check) => void): Promise<void> {
  report(modeCheck(env));
  let config: AuthConfig;
  try {
    config = loadConfig(env);
    report({
      check: 'configuration',
      ok: true,
      detail: `environment ${config.env}, alg ${config.signingAlg}`,
    });
  } catch (err) {
    report({
      check: 'configuration',
      ok: false,
      detail: (err as Error).message,
      fix: 'fix the variable named above',
    });
    return;
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(config.natsServers, {
      name: 'authmesh-doctor',
      reconnectForever: false,
      timeoutMs: 3000,
    });
    report({ check: 'NATS', ok: true, detail: `connected to ${nc.getServer()}` });
    report(natsAuthCheck(nc, config));
  } catch (err) {
    report({
      check: 'NATS',
      ok: false,
      detail: (err as Error).message,
      fix: 'start nats-server or point NATS_URL at it',
    });
    await authChecks(env, report);
    return;
  }
  try {
    let jsm: JetStreamManager | undefined;
    try {
      jsm = await nc.jetstreamManager({ timeout: 3000 });
      const info = await jsm.getAccountInfo();
      report({ check: 'JetStream', ok: true, detail: `enabled, ${info.streams} stream(s)` });
    } catch (err) {
      report({
        check: 'JetStream',
        ok: false,
        detail: (err as Error).message,
        fix: 'run nats-server with -js (and a store dir, -sd), or a cluster with a JetStream meta leader',
      });
    }
    if (jsm !== undefined) {
      await storageChecks(jsm, config, report);
      await keyChecks(nc, config, report);
    }
  } finally {
    await nc.close();
  }
  await authChecks(env, report);
}

/** The mode in effect (`AUTHMESH_ENV`, production unless development is set by name). */
function modeCheck(env: NodeJS.ProcessEnv): Check {
  const mode = env.AUTHMESH_ENV?.trim() || 'production';
  return mode === 'development'
    ? {
        check: 'mode',
        ok: true,
        detail:
          'development (AUTHMESH_ENV=development): the KEK is kept in NATS, so anyone who can read NATS can sign tokens and forge records; never in production',
      }
    : { check: 'mode', ok: true, detail: `${mode}${env.AUTHMESH_ENV?.trim() ? '' : ' (the default)'}` };
}

/**
 * Whether NATS requires clients to authenticate (the server's INFO `auth_required`). An open NATS lets
 * anyone who reaches it delete records and read password hashes; in production that is a failure.
 */
function natsAuthCheck(nc: NatsConnection, config: AuthConfig): Check {
  const required = nc.info?.auth_required === true;
  if (required) return { check: 'NATS authentication', ok: true, detail: 'required by the server' };
  return {
    check: 'NATS authentication',
    ok: config.env !== 'production',
    detail:
      'NOT required: anyone who reaches NATS can read the buckets (password hashes), delete records and flood the revocation subjects',
    fix: 'run NATS with users and least-privilege permissions (deploy/nats-server.conf, docs/OPERATIONS.md "NATS permissions") and put the credentials in NATS_URL',
  };
}

async function storageChecks(
  jsm: JetStreamManager,
  config: AuthConfig,
  report: (c: Check) => void,
): Promise<void> {
  for (const bucket of Object.values(BUCKETS)) {
    try {
      const info = await jsm.streams.info(`KV_${bucket}`);
      const replicas = info.config.num_replicas;
      report({
        check: `bucket ${bucket}`,
        ok: replicas >= config.natsReplicas,
        detail: `${info.state.messages} entr(ies), ${replicas} replica(s)`,
        ...(replicas < config.natsReplicas
          ? {
              fix: `AUTHMESH_NATS_REPLICAS=${config.natsReplicas}: start the auth service once to raise replicas, or lower the variable`,
            }
          : {}),
      });
    } catch (err) {
      report({
        check: `bucket ${bucket}`,
        ok: false,
        detail: (err as Error).message,
        fix: 'start the auth service (or run any authmesh command) once: it creates the buckets',
      });
    }
  }
  try {
    const info = await jsm.streams.info(REVOCATION_STREAM);
    const minAgeSec = config.accessTtlSec + config.clockSkewSec;
    const ageSec = info.config.max_age / 1e9;
    const problems: string[] = [];
    if (!info.config.subjects?.includes(REVOCATION_SUBJECTS))
      problems.push(`subjects ${info.config.subjects?.join(',')}`);
    // A shorter max age would drop events while tokens they revoke are still valid (DESIGN.md).
    if (ageSec > 0 && ageSec < minAgeSec)
      problems.push(`max_age ${ageSec}s < access TTL + skew ${minAgeSec}s`);
    if (info.config.num_replicas < config.natsReplicas)
      problems.push(`${info.config.num_replicas} replica(s)`);
    report({
      check: `stream ${REVOCATION_STREAM}`,
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${info.state.messages} event(s), max_age ${ageSec}s, ${info.config.num_replicas} replica(s)`
          : problems.join('; '),
      ...(problems.length
        ? { fix: 'start the auth service with the current settings: it updates the stream' }
        : {}),
    });
  } catch (err) {
    report({
      check: `stream ${REVOCATION_STREAM}`,
      ok: false,
      detail: (err as Error).message,
      fix: 'start the auth service once: it creates the stream',
    });
  }
}

async function keyChecks(nc: NatsConnection, config: AuthConfig, report: (c: Check) => void): Promise<void> {
  let kv: KV;
  try {
    kv = await nc.jetstream().views.kv(BUCKETS.keys, { bindOnly: true });
  } catch (err) {
    report({
      check: 'keys',
      ok: false,
      detail: (err as Error).message,
      fix: 'start the auth service once: it creates the keys bucket and ring',
    });
    return;
  }
  let kek = config.kek;
  if (kek === undefined) {
    const dev = await kv.get(DEV_KEK_KEY);
    if (!dev || dev.operation !== 'PUT') {
      report({
        check: 'keys',
        ok: false,
        detail: 'no AUTHMESH_KEK and no development KEK stored',
        fix: 'set AUTHMESH_KEK',
      });
      return;
    }
    kek = Buffer.from(dev.string(), 'base64url');
  }
  await ringCheck(kv, kek, report);
  await recordChecks(nc, kek, report);
}

async function ringCheck(kv: KV, kek: Buffer, report: (c: Check) => void): Promise<void> {
  try {
    const entry = await kv.get(RING_KEY);
    if (!entry || entry.operation !== 'PUT') {
      report({
        check: 'keys',
        ok: false,
        detail: 'no key ring yet',
        fix: 'start the auth service once: it creates the ring',
      });
      return;
    }
    const body = new RecordMac(kek).open(BUCKETS.keys, RING_KEY, entry.value);
    // Open the private keys first (even of a ring that fails its MAC): a KEK that opens nothing is
    // the wrong KEK, which is the likelier mistake and the one to name.
    const ring = parseRing(body ?? unverifiedBody(entry.value));
    const sealed = ring.keys.filter((k) => k.state !== 'retired' && k.sealed !== undefined);
    const box = new Kek(kek);
    for (const k of sealed) box.open(k.kid, k.sealed!);
    if (body === undefined) {
      report({
        check: 'keys',
        ok: false,
        detail: `the key ring (${BUCKETS.keys}/${RING_KEY}) fails its integrity check: the service refuses it`,
        fix: 'it was not written by the auth service under this KEK (older authmesh, or someone with NATS access): restore it from a backup, or delete it and restart the service to create a new ring (every token is then invalid)',
      });
      return;
    }
    const current = ring.keys.find((k) => k.state === 'current');
    report({
      check: 'keys',
      ok: current !== undefined,
      detail: `${ring.keys.length} key(s), current ${current?.kid ?? 'none'}, ${sealed.length} private key(s) open with the KEK, ring integrity ok`,
      ...(current === undefined ? { fix: 'run `authmesh keys rotate`' } : {}),
    });
  } catch (err) {
    const name = (err as Error).name;
    report({
      check: 'keys',
      ok: false,
      detail: name === 'KekError' ? 'a private key does not open with this KEK' : (err as Error).message,
      fix:
        name === 'KekError'
          ? 'AUTHMESH_KEK must be the key the ring was created with'
          : 'start the auth service once: it creates the keys bucket and ring',
    });
  }
}

/**
 * The buckets whose records doctor checks: every one that grants authority. `AUTHMESH_THROTTLE` entries
 * are sealed too (so a forged lock-out is refused), but they grant nothing and expire by themselves, so
 * doctor does not scan them.
 */
const AUTHENTICATED_BUCKETS = [
  BUCKETS.keys,
  BUCKETS.users,
  BUCKETS.clients,
  BUCKETS.sessions,
  BUCKETS.refresh,
];

/** Most records read per bucket by the integrity scan (sessions and refresh tokens can be many). */
const SCAN_LIMIT = 100_000;
/** Records named in the report; the rest are counted. */
const NAMED_LIMIT = 20;

/**
 * Reads every record that grants authority and checks its MAC the way the service does: each one that
 * fails is one the service refuses (users cannot log in, sessions end, a forged key is never used).
 */
async function recordChecks(nc: NatsConnection, kek: Buffer, report: (c: Check) => void): Promise<void> {
  const mac = new RecordMac(kek);
  const refused: string[] = [];
  let checked = 0;
  let truncated = false;
  for (const bucket of AUTHENTICATED_BUCKETS) {
    let kv: KV;
    try {
      kv = await nc.jetstream().views.kv(bucket, { bindOnly: true });
    } catch {
      continue; // the bucket checks above already name a missing bucket
    }
    const entries = await initialEntries(kv, SCAN_LIMIT);
    truncated ||= entries.truncated;
    for (const entry of entries.values) {
      // The development KEK is the one record that cannot carry a MAC (it is the key).
      if (bucket === BUCKETS.keys && entry.key === DEV_KEK_KEY) continue;
      checked++;
      if (mac.open(bucket, entry.key, entry.value) === undefined) refused.push(`${bucket}/${entry.key}`);
    }
  }
  const named = refused.slice(0, NAMED_LIMIT).join(', ');
  const more = refused.length > NAMED_LIMIT ? ` and ${refused.length - NAMED_LIMIT} more` : '';
  report({
    check: 'record integrity',
    ok: refused.length === 0,
    detail:
      refused.length === 0
        ? `${checked} record(s) checked, all written under this KEK${truncated ? ` (first ${SCAN_LIMIT} per bucket)` : ''}`
        : `${refused.length} of ${checked} record(s) fail their integrity check and are refused: ${named}${more}`,
    ...(refused.length > 0
      ? {
          fix: 'they were not written by authmesh under this KEK (older authmesh, or someone with NATS access): re-create users and clients with `authmesh user add` / `authmesh client add`; refused sessions and refresh tokens need a new login',
        }
      : {}),
  });
}

/** The live entries of a bucket (its watch's initial values), at most `limit`. */
async function initialEntries(kv: KV, limit: number): Promise<{ values: KvEntry[]; truncated: boolean }> {
  const values: KvEntry[] = [];
  let done!: () => void;
  const initialized = new Promise<void>((resolve) => (done = resolve));
  const watch = await kv.watch({ ignoreDeletes: true, initializedFn: () => done() });
  let truncated = false;
  const timer = setTimeout(() => done(), 10_000);
  void initialized.then(() => watch.stop());
  for await (const entry of watch) {
    if (entry.operation === 'PUT') values.push(entry);
    if (values.length >= limit) {
      truncated = true;
      break;
    }
    if (entry.delta === 0) break; // the last of the initial values
  }
  clearTimeout(timer);
  watch.stop();
  return { values, truncated };
}

async function authChecks(env: NodeJS.ProcessEnv, report: (c: Check) => void): Promise<void> {
  const target = env.AUTHMESH_AUTH_TARGET;
  if (target) {
    let credentials: grpc.ChannelCredentials;
    try {
      credentials = channelCredentials(tlsFromEnv(env)) ?? grpc.credentials.createInsecure();
    } catch (err) {
      report({
        check: 'TLS',
        ok: false,
        detail: (err as Error).message,
        fix: 'fix the AUTHMESH_TLS_* variable named',
      });
      return;
    }
    const status = await healthCheck(target, credentials);
    report({
      check: `auth gRPC ${target}`,
      ok: status === 'SERVING',
      detail: `health ${status}`,
      ...(status !== 'SERVING'
        ? {
            fix: 'start the auth service (authmesh serve), check AUTHMESH_AUTH_TARGET and /readyz for what it waits on',
          }
        : {}),
    });
  }
  const issuer = env.AUTHMESH_ISSUER;
  if (issuer) {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const doc = res.ok ? ((await res.json()) as { issuer?: string }) : undefined;
      const ok = doc?.issuer === issuer;
      report({
        check: `auth HTTP ${url}`,
        ok,
        detail: res.ok ? `issuer ${doc?.issuer}` : `HTTP ${res.status}`,
        ...(ok
          ? {}
          : {
              fix: 'AUTHMESH_ISSUER must be the URL where the auth service serves HTTP (AUTHMESH_HTTP_ADDR)',
            }),
      });
    } catch (err) {
      report({
        check: `auth HTTP ${url}`,
        ok: false,
        detail: (err as Error).message,
        fix: 'start the auth service or fix AUTHMESH_ISSUER',
      });
    }
  }
}

function healthCheck(target: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const def = grpc.loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: {
      health: {
        v1: {
          Health: new (
            t: string,
            c: grpc.ChannelCredentials,
          ) => grpc.Client & {
            Check(
              r: { service: string },
              o: grpc.CallOptions,
              cb: (e: grpc.ServiceError | null, r?: { status: string }) => void,
            ): void;
          };
        };
      };
    };
  };
  const client = new def.grpc.health.v1.Health(target, credentials);
  return new Promise((resolve) =>
    client.Check({ service: 'authmesh.v1.AuthService' }, { deadline: Date.now() + 3000 }, (err, res) => {
      client.close();
      resolve(err ? `unreachable (${grpc.status[err.code]})` : res!.status);
    }),
  );
}
