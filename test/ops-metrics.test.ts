// Metrics move on real calls: echo's interceptor-side registry (ECHO_METRICS_ADDR) counts rejections
// by reason, JWKS refreshes, revocation set size and lag; the auth service's /metrics counts tokens.
import { spawnSync } from 'node:child_process';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/mesh.js';
import { meshSuite } from './support/mesh-suite.js';

const suite = meshSuite({
  issuer: 'http://auth.ops-metrics.test',
  echoEnv: { ECHO_METRICS_ADDR: '127.0.0.1:0' },
});

async function scrape(addr: string): Promise<string> {
  const res = await fetch(`http://${addr}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels}` exactly as printed), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('echo counts rejections by reason, JWKS refreshes, revocations and their lag', async () => {
    const addr = suite.mesh.echoes[0]!.proc.listening.metrics as string;
    expect(addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const before = await scrape(addr);
    expect(sample(before, 'authmesh_jwks_refreshes_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);

    expect((await suite.mesh.echo('WhoAmI')).code).toBe(16);
    expect((await suite.mesh.echo('WhoAmI', 'not.a.token')).code).toBe(16);
    const token = await suite.mesh.clientToken('svc');
    expect((await suite.mesh.echo('WhoAmI', token)).code).toBe(0);
    expect((await suite.mesh.echo('Admin', token)).code).toBe(7);

    const admin = await suite.mesh.adminToken();
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await suite.mesh.authCall('Revoke', { jti, reason: 'test' }, admin)).code).toBe(0);
    // Revocation reaches echo within milliseconds; bounded wait.
    const deadline = Date.now() + 5000;
    while ((await suite.mesh.echo('WhoAmI', token)).code === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));

    const after = await scrape(addr);
    const rejectedTotal = (t: string) =>
      t
        .split('\n')
        .filter((l) => l.startsWith('authmesh_verifications_rejected_total{'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(rejectedTotal(after) - rejectedTotal(before)).toBeGreaterThanOrEqual(4);
    expect(after).toMatch(/authmesh_verifications_rejected_total\{reason="ERR_TOKEN_REVOKED"\} [1-9]/);
    expect(after).toMatch(/authmesh_verifications_rejected_total\{reason="ERR_SCOPE_MISSING"\} 1/);
    expect(sample(after, 'authmesh_revocation_set_size')).toBeGreaterThan(
      sample(before, 'authmesh_revocation_set_size'),
    );
    expect(sample(after, 'authmesh_revocation_events_applied_total')).toBeGreaterThan(
      sample(before, 'authmesh_revocation_events_applied_total'),
    );
    expect(sample(after, 'authmesh_revocation_lag_seconds_count')).toBe(1);
    expect(sample(after, 'authmesh_revocation_staleness_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(after, 'authmesh_revocation_staleness_seconds')).toBeLessThan(30);
    // Warm hits are plain integers published at scrape time; the cold path is timed.
    expect(sample(after, 'authmesh_verifications_total{path="cold",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'authmesh_verifications_total{path="cold",outcome="rejected"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'authmesh_verifications_total{path="warm",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'authmesh_verify_seconds_count')).toBe(
      sample(after, 'authmesh_verifications_total{path="cold",outcome="ok"}') +
        sample(after, 'authmesh_verifications_total{path="cold",outcome="rejected"}'),
    );
    const ratio = sample(after, 'authmesh_token_cache_hit_ratio');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    // Never a token in the exposition.
    expect(after).not.toContain(token.split('.')[2]!);
  });

  it('the auth service counts the tokens it issues', async () => {
    const text = async () => (await fetch(`http://${suite.mesh.auth.http}/metrics`)).text();
    const total = (t: string) =>
      t
        .split('\n')
        .filter((l) => l.startsWith('authmesh_tokens_issued_total{'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const before = total(await text());
    await suite.mesh.clientToken('svc');
    await suite.mesh.login();
    expect(total(await text()) - before).toBe(2);
  });

  it('every revocation path is counted once by the auth service: the RPC, the CLI, reuse detection', async () => {
    const events = async (name: string) =>
      sample(await scrape(suite.mesh.auth.http), `authmesh_auth_events_total{event="${name}"}`);
    /** Waits (bounded) until `name` moved by `by`; the count comes from the audit subject, asynchronously. */
    const moved = async (name: string, from: number, by: number) => {
      const deadline = Date.now() + 5000;
      while ((await events(name)) < from + by && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200)); // and not more than once
      return (await events(name)) - from;
    };
    const admin = await suite.mesh.adminToken();

    let before = await events('revoked');
    const viaRpc = decodeJwt(await suite.mesh.clientToken('svc')).jti!;
    expect((await suite.mesh.authCall('Revoke', { jti: viaRpc, reason: 'rpc' }, admin)).code).toBe(0);
    expect(await moved('revoked', before, 1)).toBe(1);

    before = await events('revoked');
    const viaCli = decodeJwt(await suite.mesh.clientToken('svc')).jti!;
    const cli = await runCli(suite.mesh.env, ['revoke', '--jti', viaCli, '--reason', 'cli']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(await moved('revoked', before, 1)).toBe(1);

    before = await events('reuse_detected');
    const login = await suite.mesh.login();
    expect((await suite.mesh.authCall('Refresh', { refresh_token: login.refresh_token })).code).toBe(0);
    // The rotated token again, after its successor was used: reuse, which revokes the session.
    const successor = await suite.mesh.authCall('Refresh', { refresh_token: login.refresh_token });
    if (successor.code === 0) {
      // Within the retry grace the same successor comes back; using it closes the grace.
      expect(
        (await suite.mesh.authCall('Refresh', { refresh_token: successor.res!.refresh_token })).code,
      ).toBe(0);
      expect((await suite.mesh.authCall('Refresh', { refresh_token: login.refresh_token })).code).toBe(16);
    }
    expect(await moved('reuse_detected', before, 1)).toBe(1);
  });

  it('promtool check metrics passes on both endpoints, but for prom-client default metrics', () => {
    const promtool = spawnSync('promtool', ['--version']);
    if (promtool.error) {
      console.warn('promtool not installed (Debian: prometheus): check skipped');
      return;
    }
    return Promise.all(
      [suite.mesh.auth.http, suite.mesh.echoes[0]!.proc.listening.metrics as string].map(async (addr) => {
        const text = await scrape(addr);
        const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        const findings = `${r.stdout}${r.stderr}`
          .split('\n')
          .filter((l) => l.trim() !== '')
          // prom-client's default Node metrics (prefixed echo_ / authmesh_auth_), not ours.
          .filter((l) => !/^(echo|authmesh_auth)_(process|nodejs)_/.test(l.trim()));
        expect(findings, `${addr}: ${findings.join('\n')}`).toEqual([]);
      }),
    );
  });
});
