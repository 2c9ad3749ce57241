// A real nats-server running the shipped deploy/nats-server.conf (the one docker-compose.yml mounts), on
// a free loopback port with a temp store, its users' passwords fresh random values from the environment.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, NatsServer, repoRoot } from '@authmesh/testing';

/** The shipped least-privilege NATS configuration. */
export const natsConf = join(repoRoot, 'deploy/nats-server.conf');

/** The config's users, by role, and the environment variable holding each one's password. */
export const NATS_USERS = {
  auth: { user: 'authmesh-auth', passwordVar: 'NATS_AUTH_PASSWORD' },
  operator: { user: 'authmesh-operator', passwordVar: 'NATS_OPERATOR_PASSWORD' },
  service: { user: 'authmesh-service', passwordVar: 'NATS_SERVICE_PASSWORD' },
} as const;

export type NatsRole = keyof typeof NATS_USERS;

/** How docker-compose.yml's `provision` registers the echo services' own client (secret on stdin). */
export const ECHO_RELAY_CLIENT_ARGS = [
  'client',
  'add',
  'echo-relay',
  '--scopes',
  'authmesh:exchange',
  '--audiences',
  'echo,echo-b',
  '--serves',
  'echo,echo-b',
  '--secret-stdin',
];

/** The running server and each role's credentials. */
export interface DeployNats {
  nats: NatsServer;
  /** `{ user, pass }` of a role, for nats.js `connect()`. */
  creds(role: NatsRole): { user: string; pass: string };
  /** `nats://user:password@127.0.0.1:port`, as NATS_URL carries it. */
  url(role: NatsRole): string;
}

/** Starts nats-server with deploy/nats-server.conf; its monitoring port moved to a free one. */
export async function startDeployNats(): Promise<DeployNats> {
  // As docs/OPERATIONS.md generates them: nats-server parses a `$VAR` value as config text, so a
  // password must start with a letter and hold only letters and digits (`a,b` would become `a`).
  const passwords = Object.fromEntries(
    Object.values(NATS_USERS).map((u) => [u.passwordVar, `nats${randomBytes(24).toString('hex')}`]),
  );
  const creds = (role: NatsRole) => ({
    user: NATS_USERS[role].user,
    pass: passwords[NATS_USERS[role].passwordVar]!,
  });
  const nats = await NatsServer.start({
    config: natsConf,
    env: { ...(process.env as Record<string, string>), ...passwords },
    // The config's monitoring address is fixed (127.0.0.1:8222); parallel test servers need their own.
    args: ['-m', String(await freePort())],
    probeUser: creds('service'),
  });
  return {
    nats,
    creds,
    url: (role) => {
      const c = creds(role);
      return `nats://${c.user}:${c.pass}@127.0.0.1:${nats.port}`;
    },
  };
}
