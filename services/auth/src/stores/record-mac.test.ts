import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { openBucket } from '../nats.js';
import { recordIntegrity, RecordMac, unverifiedBody, type RefusedRecord } from './record-mac.js';

const kek = randomBytes(32);
const body = Buffer.from(JSON.stringify({ username: 'alice', scopes: ['echo:read'] }));
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString());

describe('RecordMac', () => {
  const mac = new RecordMac(kek);

  it('seals a JSON record into JSON that still shows it, and opens it back', () => {
    const sealed = mac.seal('AUTHMESH_USERS', 'YWxpY2U', body);
    const parsed = JSON.parse(Buffer.from(sealed).toString()) as { v: number; mac: string; record: unknown };
    expect(parsed).toEqual({
      v: 1,
      mac: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      record: JSON.parse(`${body}`),
    });
    expect(text(mac.open('AUTHMESH_USERS', 'YWxpY2U', sealed))).toBe(body.toString());
    expect(text(unverifiedBody(sealed))).toBe(body.toString());
  });

  it('refuses a changed record, a moved one, another KEK, an unsealed (pre-MAC) one and garbage', () => {
    const sealed = Buffer.from(mac.seal('AUTHMESH_USERS', 'YWxpY2U', body));
    const widened = Buffer.from(sealed.toString().replace('"echo:read"', '"echo:admn"'));
    expect(widened.length).toBe(sealed.length);
    expect(mac.open('AUTHMESH_USERS', 'YWxpY2U', widened)).toBeUndefined();
    expect(mac.open('AUTHMESH_USERS', 'bWFsbG9yeQ', sealed)).toBeUndefined(); // moved to another key
    expect(mac.open('AUTHMESH_CLIENTS', 'YWxpY2U', sealed)).toBeUndefined(); // moved to another bucket
    expect(new RecordMac(randomBytes(32)).open('AUTHMESH_USERS', 'YWxpY2U', sealed)).toBeUndefined();
    expect(mac.open('AUTHMESH_USERS', 'YWxpY2U', body)).toBeUndefined(); // written by old code: no MAC
    for (const junk of ['', '{}', '{"v":1,"mac":"', sealed.toString().slice(0, -1)]) {
      expect(mac.open('AUTHMESH_USERS', 'YWxpY2U', Buffer.from(junk)), junk).toBeUndefined();
    }
    expect(() => new RecordMac(randomBytes(16))).toThrow(/kek must be 32 bytes/);
  });
});

describe('AuthenticatedBucket (real NATS)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('seals what it writes; a record written around it reads as missing, arrives as a delete, and is reported', async () => {
    const raw = await openBucket(nc.jetstream(), 'RECORD_MAC_TEST', 1);
    const refused: RefusedRecord[] = [];
    const kv = recordIntegrity(kek, (r) => refused.push(r)).wrap(raw, 'RECORD_MAC_TEST');

    await kv.put('good', body);
    expect(text((await kv.get('good'))?.value)).toBe(body.toString());
    expect((await raw.get('good'))!.string()).toMatch(/^\{"v":1,"mac":"/);

    const watch = await kv.watch({ key: 'forged' });
    await raw.put('forged', body); // a NATS writer without the KEK
    expect(await kv.get('forged')).toBeNull();
    expect(refused).toEqual([{ bucket: 'RECORD_MAC_TEST', key: 'forged' }]);
    for await (const entry of watch) {
      expect(entry.operation).toBe('DEL');
      expect(entry.length).toBe(0);
      break;
    }
    watch.stop();

    // Compare-and-set keeps working through the wrapper (revisions pass through).
    const rev = (await kv.get('good'))!.revision;
    await kv.update('good', Buffer.from('{"n":2}'), rev);
    await expect(kv.update('good', Buffer.from('{"n":3}'), rev)).rejects.toThrow(/wrong last sequence/);
  });
});
