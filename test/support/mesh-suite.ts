// The setup most e2e files share: one nats-server and a Mesh on it for the whole file.
import { afterAll, beforeAll } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { Mesh, type MeshOptions } from './mesh.js';

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
