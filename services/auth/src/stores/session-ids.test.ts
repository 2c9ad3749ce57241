import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { recordIntegrity } from './record-mac.js';
import { SessionStore } from './sessions.js';

// The store draws its sids through newSessionId: a test can make it hand out one of the 128-bit,
// 22-character ids that sessions started before got.
const drawn = vi.hoisted(() => ({ legacy: undefined as string | undefined }));
vi.mock('./refresh-tokens.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./refresh-tokens.js')>();
  return { ...real, newSessionId: () => drawn.legacy ?? real.newSessionId() };
});

let server: NatsServer;
let nc: NatsConnection;
let sessions: SessionStore;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
  await openBuckets(nc.jetstream(), 1);
  sessions = await SessionStore.open(nc.jetstream(), {
    idleTtlSec: 60,
    absoluteTtlSec: 3600,
    successorKey: randomBytes(32),
    integrity: recordIntegrity(randomBytes(32), () => undefined),
  });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const grant = { sub: 'alice', client_id: 'c', scope: ['a'], aud: ['authmesh'], roles: [] };

describe('session ids', () => {
  it('are 96 random bits, 16 base64url characters (every access token of the session carries one)', async () => {
    const real = await vi.importActual<typeof import('./refresh-tokens.js')>('./refresh-tokens.js');
    const ids = new Set(Array.from({ length: 1000 }, () => real.newSessionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(12);
    }
    const { session } = await sessions.start(grant);
    expect(session.sid).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('a session started with a 128-bit (22-character) id, as before, still rotates and ends', async () => {
    drawn.legacy = randomBytes(16).toString('base64url');
    const legacy = drawn.legacy;
    let first;
    try {
      first = await sessions.start(grant);
    } finally {
      drawn.legacy = undefined;
    }
    expect(first.session.sid).toBe(legacy);
    expect(legacy).toHaveLength(22);
    const second = await sessions.rotate(first.refreshToken);
    expect(second).toMatchObject({ ok: true, retried: false, session: { sid: legacy } });
    expect((await sessions.getSession(legacy))?.sub).toBe('alice');
    if (!second.ok) return;
    await sessions.revokeSession(legacy, Math.floor(Date.now() / 1000));
    expect(await sessions.rotate(second.refreshToken)).toMatchObject({ ok: false, reason: 'revoked' });
  });
});
