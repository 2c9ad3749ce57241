import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { ClientStore, putClient } from './clients.js';
import { nameKey } from './kv.js';
import { recordIntegrity } from './record-mac.js';
import { putUser, UserStore } from './users.js';

const integrity = recordIntegrity(randomBytes(32), () => undefined);

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
  await openBuckets(nc.jetstream(), 1);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('UserStore / ClientStore', () => {
  it('serve records from a watched copy, including names that are not valid KV keys', async () => {
    const users = await UserStore.open(nc.jetstream(), integrity);
    const clients = await ClientStore.open(nc.jetstream(), integrity);
    try {
      const name = 'ünïcode user.with*wild>cards';
      expect(nameKey(name)).toMatch(/^[A-Za-z0-9_-]+$/);
      await putUser(nc.jetstream(), integrity, {
        username: name,
        password_hash: 'h',
        roles: ['r'],
        scopes: ['s'],
        audiences: [],
      });
      await putClient(nc.jetstream(), integrity, {
        client_id: 'svc',
        secret_hash: 'x',
        scopes: ['s'],
        audiences: ['echo'],
      });
      expect((await users.get(name))?.roles).toEqual(['r']);
      expect((await clients.get('svc'))?.audiences).toEqual(['echo']);
      expect(await users.get('nobody')).toBeUndefined();
      // Updates arrive through the watch.
      await putUser(nc.jetstream(), integrity, {
        username: name,
        password_hash: 'h',
        roles: ['r2'],
        scopes: ['s'],
        audiences: [],
      });
      const deadline = Date.now() + 2000;
      while ((await users.get(name))?.roles[0] !== 'r2' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect((await users.get(name))?.roles).toEqual(['r2']);
      // A deleted user is gone from the copy as well.
      await (await nc.jetstream().views.kv('AUTHMESH_USERS')).delete(nameKey(name));
      const until = Date.now() + 2000;
      while ((await users.get(name)) !== undefined && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      expect(await users.get(name)).toBeUndefined();
    } finally {
      await users.close();
      await clients.close();
    }
  });
});
