import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { openBuckets } from '../nats.js';
import { jsonValue } from './kv.js';
import { recordIntegrity } from './record-mac.js';
import { newRefreshToken, newSessionId, refreshTokenKey } from './refresh-tokens.js';
import { type RefreshRecord, type SessionRecord, SessionStore } from './sessions.js';

const integrity = recordIntegrity(randomBytes(32), () => undefined);

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
    integrity,
  });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const grant = { sub: 'alice', client_id: 'c', scope: ['a'], aud: ['authmesh'], roles: [] };

describe('session ids', () => {
  it('are 96 random bits, 16 base64url characters (every access token of the session carries one)', async () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newSessionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(12);
    }
    const { session } = await sessions.start(grant);
    expect(session.sid).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('a session started with a 128-bit (22-character) id, as before (with a chain token), still rotates and ends', async () => {
    // What versions before 96-bit ids and family tokens wrote at login.
    const legacy = randomBytes(16).toString('base64url');
    expect(legacy).toHaveLength(22);
    const now = Math.floor(Date.now() / 1000);
    const kv = (name: string) =>
      nc
        .jetstream()
        .views.kv(name)
        .then((b) => integrity.wrap(b, name));
    const session: SessionRecord = {
      sid: legacy,
      ...grant,
      created_at: now,
      absolute_expires_at: now + 3600,
    };
    const rev = await (await kv('AUTHMESH_SESSIONS')).create(`sid.${legacy}`, jsonValue(session));
    const token = newRefreshToken();
    const record: RefreshRecord = {
      sid: legacy,
      sub: grant.sub,
      state: 'active',
      created_at: now,
      idle_expires_at: now + 60,
      session_rev: rev,
    };
    await (await kv('AUTHMESH_REFRESH')).create(refreshTokenKey(token), jsonValue(record));
    const second = await sessions.rotate(token);
    expect(second).toMatchObject({ ok: true, retried: false, session: { sid: legacy } });
    expect((await sessions.getSession(legacy))?.sub).toBe('alice');
    if (!second.ok) return;
    await sessions.revokeSession(legacy, Math.floor(Date.now() / 1000));
    expect(await sessions.rotate(second.refreshToken)).toMatchObject({ ok: false, reason: 'revoked' });
  });
});
