// Audit events on core NATS `authmesh.audit.<event>` from the real auth service (and the CLI for key
// rotations): every kind is driven by real calls, and no token, secret or password appears in any
// event or in any line the auth service logged.
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { Mesh, PASSWORD, runCli, until } from './support/mesh.js';

let nats: NatsServer;
let mesh: Mesh;
let nc: NatsConnection;
const events: { subject: string; data: string }[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({ natsUrl: nats.url, issuer: 'http://auth.ops-audit.test', echoes: 0 });
  nc = await connect({ servers: nats.url });
  const sub = nc.subscribe('authmesh.audit.>');
  void (async () => {
    for await (const m of sub) events.push({ subject: m.subject, data: m.string() });
  })();
  await nc.flush();
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await mesh?.stop();
  await nats?.stop();
});

/** An audit event as published (DESIGN: `authmesh.audit.<event>`); every field but event/at optional. */
type AuditEvent = {
  event: string;
  at: number;
  sub?: string;
  sid?: string;
  jti?: string;
  kid?: string;
  peer?: string;
  client_id?: string;
  reason?: string;
};

const parsed = () => events.map((e) => ({ subject: e.subject, ...(JSON.parse(e.data) as AuditEvent) }));
const seen = (name: string) => parsed().filter((e) => e.event === name);

describe('audit events', () => {
  it('issued, refreshed, reuse_detected, revoked, login_failed, login_throttled, key_rotated; no secrets', async () => {
    const secrets: string[] = [PASSWORD, mesh.secrets.svc!, mesh.secrets.admin!];
    const wrong = 'wrong-password-' + Math.random().toString(36).slice(2);
    secrets.push(wrong);

    const svc = await mesh.clientToken('svc');
    const login = await mesh.login();
    secrets.push(svc, login.access_token, login.refresh_token);
    const refreshed = await mesh.authCall('Refresh', { refresh_token: login.refresh_token });
    expect(refreshed.code).toBe(0);
    secrets.push(refreshed.res!.access_token, refreshed.res!.refresh_token);
    // Reusing the rotated refresh token after its successor was used ends the session.
    const next = await mesh.authCall('Refresh', { refresh_token: refreshed.res!.refresh_token });
    expect(next.code).toBe(0);
    secrets.push(next.res!.access_token, next.res!.refresh_token);
    expect((await mesh.authCall('Refresh', { refresh_token: login.refresh_token })).code).toBe(16);

    expect(
      (await mesh.authCall('IssueToken', { password: { username: 'alice', password: wrong } })).code,
    ).toBe(16);
    const badSecret = 'not-the-secret-' + Math.random().toString(36).slice(2);
    secrets.push(badSecret);
    expect(
      (
        await mesh.authCall('IssueToken', {
          client_credentials: { client_id: 'svc', client_secret: badSecret },
        })
      ).code,
    ).toBe(16);
    // Failed logins of one user name until the throttle answers (bounded).
    let throttled = false;
    for (let i = 0; i < 30 && !throttled; i++) {
      const r = await mesh.authCall('IssueToken', { password: { username: 'mallory', password: wrong } });
      throttled = r.code === 8;
    }
    expect(throttled).toBe(true);

    const admin = await mesh.adminToken();
    secrets.push(admin);
    const jti = JSON.parse(Buffer.from(svc.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await mesh.authCall('Revoke', { jti, reason: 'audit test' }, admin)).code).toBe(0);

    const rotate = await runCli(mesh.env, ['keys', 'rotate']);
    expect(rotate.code).toBe(0);

    await until(
      async () => seen('key_rotated').length > 0 && seen('revoked').length >= 1,
      5000,
      'audit events',
    );

    const issued = seen('issued');
    expect(issued.length).toBeGreaterThanOrEqual(3);
    expect(
      issued.some((e) => e.sub === 'alice' && typeof e.sid === 'string' && typeof e.jti === 'string'),
    ).toBe(true);
    expect(issued.every((e) => e.subject === 'authmesh.audit.issued' && typeof e.at === 'number')).toBe(true);
    expect(seen('refreshed')).toHaveLength(2);
    expect(seen('refreshed')[0]!.sid).toBe(
      JSON.parse(Buffer.from(login.access_token.split('.')[1]!, 'base64url').toString()).sid,
    );
    expect(seen('reuse_detected')).toHaveLength(1);
    expect(seen('login_failed').some((e) => e.sub === 'alice' && typeof e.peer === 'string')).toBe(true);
    expect(seen('login_failed').some((e) => e.client_id === 'svc')).toBe(true);
    expect(seen('login_throttled').some((e) => e.sub === 'mallory')).toBe(true);
    expect(seen('revoked').some((e) => String(e.reason).includes(jti) && e.client_id === 'admin')).toBe(true);
    expect(seen('key_rotated')[0]!.kid).toMatch(/.+/);

    // The same events went to the auth service's log.
    await until(async () => mesh.auth.output.includes('audit revoked'), 3000, 'audit log lines');
    const log = mesh.auth.output;
    expect(log).toContain('"audit":{"event":"issued"');

    // Never a secret, token or token signature, in any event or any log line.
    const haystacks = [...events.map((e) => e.data), log];
    for (const s of secrets) {
      for (const needle of [s, ...(s.split('.').length === 3 ? [s.split('.')[2]!] : [])]) {
        for (const h of haystacks)
          expect(h.includes(needle), `secret leaked: ${needle.slice(0, 6)}…`).toBe(false);
      }
    }
    for (const e of parsed())
      expect(Object.keys(e).some((k) => /hash|secret|password|token/i.test(k))).toBe(false);
  }, 60_000);
});
