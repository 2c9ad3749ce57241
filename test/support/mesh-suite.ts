// Setup the e2e files share that asserts or registers hooks (so it needs vitest; mesh.ts does not):
// one nats-server and a Mesh on it for the whole file, clients provisioned through the CLI.
import { afterAll, beforeAll, expect } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { Mesh, clientSecretOf, runCli, type MeshOptions } from './mesh.js';

/** What `meshSuite` starts; both are set once its beforeAll has run. */
export interface MeshSuite {
  nats: NatsServer;
  mesh: Mesh;
}

/**
 * Registers a beforeAll that starts a nats-server and a Mesh on it (`options` as for `Mesh.start`, without
 * natsUrl; `timeoutMs` bounds that hook) and an afterAll that stops the mesh, then NATS.
 */
export function meshSuite(options: Omit<MeshOptions, 'natsUrl'>, timeoutMs = 60_000): MeshSuite {
  const suite = {} as MeshSuite;
  beforeAll(async () => {
    suite.nats = await NatsServer.start();
    suite.mesh = await Mesh.start({ natsUrl: suite.nats.url, ...options });
  }, timeoutMs);
  afterAll(async () => {
    await suite.mesh?.stop();
    await suite.nats?.stop();
  });
  return suite;
}

/**
 * `authmesh client add <id> <args...>` for each entry, one after another, expecting exit 0 of each;
 * returns the generated secrets by id.
 */
export async function addClients<Id extends string>(
  env: Record<string, string>,
  clients: Record<Id, string[]>,
): Promise<Record<Id, string>> {
  const secrets = {} as Record<Id, string>;
  for (const [id, args] of Object.entries(clients) as [Id, string[]][]) {
    const r = await runCli(env, ['client', 'add', id, ...args]);
    expect(r.code, r.stderr).toBe(0);
    secrets[id] = clientSecretOf(r.stdout);
  }
  return secrets;
}
