import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, runCli, startAuthService, testAuthEnv, unary } from './support/mesh.js';

// Operators' commands never weaken the running system (DESIGN.md, "The auth service's own trust
// boundary"): the service stores the lifetimes it runs with; a stream or bucket limit is only ever
// raised; the CLI follows the stored lifetimes, not its own shell's. Attacks: a CLI run with a much
// shorter AUTHMESH_ACCESS_TTL than the service's, and `keys rotate` from such a shell. Real
// nats-server, the service and the CLI as processes (build first).

const SERVICE_TTL = 3600;
const SKEW = 30;
let nats: NatsServer;
let auth: ServiceProcess;
let env: Record<string, string>;
/** The same store and KEK, from a shell configured with short lifetimes. */
let shortShell: Record<string, string>;

const hours = (ns: number) => ns / 1e9 / 3600;

async function streamMaxAgeSec(name: string): Promise<number> {
  const nc = await connect({ servers: nats.url });
  try {
    return (await (await nc.jetstreamManager()).streams.info(name)).config.max_age / 1e9;
  } finally {
    await nc.close();
  }
}

async function lastRevocationClaims(): Promise<{ at: number; exp: number }> {
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await nc.jetstreamManager();
    const { state } = await jsm.streams.info('AUTHMESH_REVOCATIONS');
    const msg = await jsm.streams.getMessage('AUTHMESH_REVOCATIONS', { seq: state.last_seq });
    const payload = Buffer.from(msg.data).toString().trim().split('.')[1]!;
    return JSON.parse(Buffer.from(payload, 'base64url').toString()) as { at: number; exp: number };
  } finally {
    await nc.close();
  }
}

const kids = async (): Promise<string[]> => {
  const r = await runCli(env, ['keys', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { kid: string }).kid);
};

beforeAll(async () => {
  nats = await NatsServer.start();
  env = testAuthEnv(nats.url, 'http://auth.retention.test', {
    AUTHMESH_ACCESS_TTL: String(SERVICE_TTL),
    AUTHMESH_CLOCK_SKEW: String(SKEW),
    LOG_LEVEL: 'warn',
  });
  // Short enough to matter, long enough to be accepted by JetStream (a max age below the 2-minute
  // duplicate window is refused), so the previous code really shrank the stream and the buckets.
  shortShell = {
    ...env,
    AUTHMESH_ACCESS_TTL: '60',
    AUTHMESH_CLOCK_SKEW: '0',
    AUTHMESH_REFRESH_IDLE_TTL: '60',
    AUTHMESH_REFRESH_ABSOLUTE_TTL: '600',
  };
  auth = await ServiceProcess.start({ args: [authBin, 'serve'], env, name: 'auth' });
}, 60_000);

afterAll(async () => {
  await auth?.stop();
  await nats?.stop();
});

describe('retention follows the running service, never a command’s own environment', () => {
  it('a CLI run with a shorter access TTL shrinks neither the stream nor the buckets, and its events last as the service’s tokens', async () => {
    const streamAge = await streamMaxAgeSec('AUTHMESH_REVOCATIONS');
    expect(streamAge).toBe(SERVICE_TTL + SKEW + 60);
    const sessionsAge = await streamMaxAgeSec('KV_AUTHMESH_SESSIONS');
    for (const args of [
      ['revoke', '--jti', 'some-token-id', '--reason', 'retention test'],
      ['client', 'add', 'svc-retention', '--scopes', 'x'],
    ]) {
      const r = await runCli(shortShell, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(await streamMaxAgeSec('AUTHMESH_REVOCATIONS')).toBe(streamAge);
    expect(hours(await streamMaxAgeSec('KV_AUTHMESH_SESSIONS'))).toBe(hours(sessionsAge));
    expect(await streamMaxAgeSec('KV_AUTHMESH_REFRESH')).toBe(sessionsAge);
    // The revocation must outlive every token it can match: the service's tokens, not the shell's TTL.
    const event = await lastRevocationClaims();
    expect(event.exp - event.at).toBeGreaterThanOrEqual(SERVICE_TTL + SKEW);
  }, 120_000);

  it('`keys rotate` from a differently configured shell keeps a retired key as long as the service’s tokens live', async () => {
    const first = await runCli(env, ['keys', 'rotate']);
    expect(first.code, first.stderr).toBe(0);
    const retired = (JSON.parse(first.stdout) as { previous: string }).previous;
    // Past the short shell's access TTL + skew (1 s), far inside the service's (3630 s).
    await new Promise((r) => setTimeout(r, 2500));
    const second = await runCli({ ...shortShell, AUTHMESH_ACCESS_TTL: '1' }, ['keys', 'rotate']);
    expect(second.code, second.stderr).toBe(0);
    expect(await kids()).toContain(retired);
    const jwks = await (await fetch(`http://${auth.http}/.well-known/jwks.json`)).text();
    expect(jwks).toContain(retired);
  }, 120_000);

  it('a replica configured with a shorter access TTL publishes revocations that cover the stored (longest) TTL', async () => {
    const added = await runCli(env, ['user', 'add', 'ret-user', '--scopes', 'x'], 'pw-ret\n');
    expect(added.code, added.stderr).toBe(0);
    const short = await startAuthService({
      ...shortShell,
      AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    });
    try {
      const token = await unary<{ access_token: string }>(short.client, 'IssueToken', {
        password: { username: 'ret-user', password: 'pw-ret' },
      });
      // Logout of every session of the subject, through the short replica: no exp from the target.
      await unary(short.client, 'Revoke', { subject: 'ret-user', reason: 'retention' }, token.access_token);
      const event = await lastRevocationClaims();
      // Tokens the 3600 s replica minted for ret-user must meet this revocation until they expire;
      // the short replica's own TTL (60 s, skew 0) would have ended it an hour early.
      expect(event.exp - event.at).toBeGreaterThanOrEqual(SERVICE_TTL + SKEW);
    } finally {
      (short.client as unknown as { close(): void }).close();
      await short.proc.stop();
    }
  }, 120_000);

  it('stores the lifetimes it runs with; a replica configured shorter does not lower them', async () => {
    const short = await ServiceProcess.start({
      args: [authBin, 'serve'],
      env: { ...shortShell, AUTHMESH_GRPC_ADDR: '127.0.0.1:0', AUTHMESH_HTTP_ADDR: '127.0.0.1:0' },
      name: 'auth-short',
    });
    try {
      expect(await streamMaxAgeSec('AUTHMESH_REVOCATIONS')).toBe(SERVICE_TTL + SKEW + 60);
      const nc = await connect({ servers: nats.url });
      try {
        const kv = await nc.jetstream().views.kv('AUTHMESH_KEYS', { bindOnly: true });
        const stored = (await kv.get('lifetimes'))!.json<{ record: Record<string, number> }>().record;
        expect(stored).toMatchObject({ accessTtlSec: SERVICE_TTL, clockSkewSec: SKEW });
      } finally {
        await nc.close();
      }
    } finally {
      await short.stop();
    }
  }, 120_000);
});
