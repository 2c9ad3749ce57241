import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { putClient } from './clients.js';
import { recordIntegrity } from './record-mac.js';
import { putUser } from './users.js';

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

const user = (username: string) => ({ username, password_hash: 'x', roles: [], scopes: [], audiences: [] });
const client = (client_id: string) => ({ client_id, secret_hash: 'x', scopes: [], audiences: [] });

describe('user and client names', () => {
  it('a user and a client can never share a name (both would be the same token sub)', async () => {
    const js = nc.jetstream();
    await putUser(js, integrity, user('alice'));
    await putUser(js, integrity, user('alice')); // replacing a user is fine
    await expect(putClient(js, integrity, client('alice'))).rejects.toThrow(/a user named "alice" exists/);
    await putClient(js, integrity, client('billing'));
    await putClient(js, integrity, client('billing'));
    await expect(putUser(js, integrity, user('billing'))).rejects.toThrow(/a client named "billing" exists/);
  });
});
