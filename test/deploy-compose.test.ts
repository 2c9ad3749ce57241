// docker-compose.yml, validated by the Compose implementations on this machine (test/support/compose.ts).
// With a KEK secret and the NATS passwords it is valid, keeps NATS off the host and gives each process
// its own NATS user; without a KEK, or without any one password, it is refused.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ECHO_RELAY_CLIENT_ARGS, NATS_USERS } from './support/deploy-nats.js';
import {
  composeConfig,
  composeFixture,
  composeTools,
  NO_COMPOSE,
  type ComposeService,
  type ComposeTool,
} from './support/compose.js';

const { dir, kekFile, vars: complete } = composeFixture();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = (tool: ComposeTool, vars: Record<string, string>) => composeConfig(tool, dir, vars);

const without = (name: string) => Object.fromEntries(Object.entries(complete).filter(([k]) => k !== name));
const natsUser = (s: ComposeService) => /^nats:\/\/([^:@]+):/.exec(s.environment?.NATS_URL ?? '')?.[1];
const mountsConfig = (s: ComposeService) =>
  (s.volumes ?? []).some((v) =>
    typeof v === 'string'
      ? v.includes('deploy/nats-server.conf:/etc/nats/nats-server.conf')
      : v.source?.endsWith('deploy/nats-server.conf') && v.target === '/etc/nats/nats-server.conf',
  );
const secretNames = (s: ComposeService) =>
  (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));

if (composeTools.length === 0) {
  it('validates docker-compose.yml with a Compose implementation', (ctx) => {
    ctx.skip(NO_COMPOSE);
  });
}

describe.each(composeTools)('docker-compose.yml under $name', (tool) => {
  it('is valid with a KEK secret and the NATS passwords: production, NATS unpublished, one NATS user per role', async () => {
    const r = await config(tool, complete);
    expect(r.status, r.stderr).toBe(0);
    const file = tool.parse(r.stdout);
    const s = file.services;

    // NATS: no port published to the host, every node started with the least-privilege config.
    for (const name of ['nats', 'nats-1', 'nats-2', 'nats-3']) {
      expect(s[name]?.ports ?? [], name).toEqual([]);
      expect(mountsConfig(s[name]!), name).toBe(true);
    }
    // (test/deploy-compose-nats.test.ts runs these command lines.)
    for (const name of ['nats', 'nats-1'])
      expect((s[name]!.command as string[])[2], name).toMatch(
        /exec nats-server -c \/etc\/nats\/nats-server.conf -sd \/data/,
      );
    expect(s.nats!.environment).toMatchObject({
      NATS_AUTH_PASSWORD: 'natsauth0',
      NATS_OPERATOR_PASSWORD: 'natsoperator0',
      NATS_SERVICE_PASSWORD: 'natsservice0',
    });

    // The KEK only as a secret file, for the auth service and the CLI; production mode, no fallback.
    expect(file.secrets?.authmesh_kek?.file).toBe(kekFile);
    for (const name of ['auth', 'cli', 'provision']) {
      expect(s[name]!.environment, name).toMatchObject({
        AUTHMESH_ENV: 'production',
        AUTHMESH_KEK_FILE: '/run/secrets/authmesh_kek',
      });
      expect(secretNames(s[name]!), name).toContain('authmesh_kek');
    }
    for (const [name, svc] of Object.entries(s)) {
      expect(svc.environment?.AUTHMESH_KEK, name).toBeUndefined();
      expect(svc.environment?.AUTHMESH_ENV, name).not.toBe('development');
    }

    // Each process connects as its own user (deploy/nats-server.conf grants each what it needs).
    expect(natsUser(s.auth!)).toBe(NATS_USERS.auth.user);
    expect(natsUser(s.cli!)).toBe(NATS_USERS.operator.user);
    expect(natsUser(s.provision!)).toBe(NATS_USERS.operator.user);
    expect(natsUser(s.echo!)).toBe(NATS_USERS.service.user);
    expect(natsUser(s['echo-b']!)).toBe(NATS_USERS.service.user);
    expect(secretNames(s.echo!)).toEqual([]);
    // provision registers the echo client exactly as test/deploy-mesh.test.ts does (and Relay then works).
    expect(String(s.provision!.command)).toContain(ECHO_RELAY_CLIENT_ARGS.join(' '));
  });

  it('is refused without a KEK, naming AUTHMESH_KEK_FILE (a KEK in AUTHMESH_KEK is no fallback)', async () => {
    const noKek = without('AUTHMESH_KEK_FILE');
    for (const r of await Promise.all([
      config(tool, noKek),
      config(tool, { ...noKek, AUTHMESH_KEK: 'A'.repeat(43) }),
    ])) {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/AUTHMESH_KEK_FILE/);
    }
  });

  it('is refused without any one of the NATS passwords, naming it', async () => {
    const names = ['NATS_AUTH_PASSWORD', 'NATS_OPERATOR_PASSWORD', 'NATS_SERVICE_PASSWORD'];
    const results = await Promise.all(names.map((name) => config(tool, without(name))));
    results.forEach((r, i) => {
      expect(r.status, names[i]).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(names[i]!));
    });
  });
});
