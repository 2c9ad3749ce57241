import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { parseAnnouncement } from './announcement.js';
import { verifyAnnouncementMac } from './announcement-mac.js';
import { MeshAnnouncer } from './announcer.js';
import { PACKAGE_VERSION } from './version.js';

function fakeConnection(fail = false): { nc: NatsConnection; sent: { subject: string; data: string }[] } {
  const sent: { subject: string; data: string }[] = [];
  const nc = {
    isClosed: () => false,
    publish(subject: string, data: string) {
      if (fail) throw new Error('disconnected');
      sent.push({ subject, data });
    },
  } as unknown as NatsConnection;
  return { nc, sent };
}

const state = { appliedSequence: () => 7, isStale: () => false, epoch: () => 3 };

describe('MeshAnnouncer', () => {
  it('PACKAGE_VERSION is the package.json version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });

  it('announces at start, coalesces a burst of changes into one announcement, says goodbye on close', async () => {
    const { nc, sent } = fakeConnection();
    const a = new MeshAnnouncer({ audience: 'echo', periodMs: 2000, state });
    a.start(nc);
    expect(sent).toHaveLength(1);
    for (let i = 0; i < 1000; i++) a.changed();
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toHaveLength(2);
    const parsed = parseAnnouncement(Buffer.from(sent[1]!.data));
    expect(parsed).toMatchObject({ id: a.instanceId, aud: 'echo', seq: 7, epoch: 3, authenticated: false });
    a.close();
    expect(sent.at(-1)!.subject).toBe('authmesh.mesh.goodbye');
  });

  it('a connection that cannot publish changes nothing for the caller', async () => {
    const { nc } = fakeConnection(true);
    const a = new MeshAnnouncer({ audience: 'echo', periodMs: 50, state });
    expect(() => a.start(nc)).not.toThrow();
    a.changed();
    await new Promise((r) => setTimeout(r, 120));
    expect(() => a.close()).not.toThrow();
  });

  it('parseAnnouncement refuses malformed or oversized payloads and out-of-range periods', () => {
    const good = {
      v: 1,
      id: 'x',
      label: '',
      aud: 'echo',
      ver: '1',
      seq: 1,
      stale: false,
      epoch: 0,
      period: 2000,
    };
    expect(parseAnnouncement(Buffer.from(JSON.stringify(good)))).toBeDefined();
    for (const bad of [
      { ...good, period: 10 },
      { ...good, period: 60_000 },
      { ...good, seq: -1 },
      { ...good, id: '' },
    ])
      expect(parseAnnouncement(Buffer.from(JSON.stringify(bad)))).toBeUndefined();
    expect(parseAnnouncement(Buffer.from('{'))).toBeUndefined();
    expect(parseAnnouncement(Buffer.alloc(4096, 32))).toBeUndefined();
  });

  it('with a key, every message is MACed for its kind with a growing counter; before the key, unauthenticated', async () => {
    const { nc, sent } = fakeConnection();
    const key = new Uint8Array(32).fill(9);
    let give!: () => void;
    const keyed = new Promise<void>((r) => (give = r));
    const a = new MeshAnnouncer({
      audience: 'echo',
      periodMs: 2000,
      state,
      key: async (id) => {
        await keyed;
        return { clientId: `svc:${id.length}`, key };
      },
    });
    a.start(nc);
    expect(parseAnnouncement(Buffer.from(sent[0]!.data))).toMatchObject({ authenticated: false });
    expect(JSON.parse(sent[0]!.data)).not.toHaveProperty('mac');
    give();
    await new Promise((r) => setTimeout(r, 20));
    expect(a.authenticated).toBe(true);
    a.changed();
    await new Promise((r) => setTimeout(r, 30));
    a.close();
    const signed = sent.slice(1).map((m) => ({ m, p: parseAnnouncement(Buffer.from(m.data))! }));
    expect(signed.length).toBeGreaterThanOrEqual(3);
    signed.forEach(({ m, p }, i) => {
      const kind = m.subject === 'authmesh.mesh.goodbye' ? 'goodbye' : 'announce';
      expect(p).toMatchObject({ cid: 'svc:16', n: i + 1 });
      expect(verifyAnnouncementMac(key, kind, p)).toBe(true);
      expect(verifyAnnouncementMac(key, kind === 'goodbye' ? 'announce' : 'goodbye', p)).toBe(false);
      expect(verifyAnnouncementMac(key, kind, { ...p, seq: p.seq + 1 })).toBe(false);
    });
  });

  it('a key source that fails leaves the instance announcing unauthenticated, without throwing', async () => {
    const { nc, sent } = fakeConnection();
    let asked = 0;
    const a = new MeshAnnouncer({
      audience: 'echo',
      periodMs: 50,
      state,
      key: () => {
        asked++;
        return Promise.reject(new Error('PERMISSION_DENIED'));
      },
    });
    a.start(nc);
    await new Promise((r) => setTimeout(r, 150));
    a.close();
    expect(asked).toBe(1); // retried after 1 s, then less and less often
    for (const m of sent) expect(parseAnnouncement(Buffer.from(m.data))).not.toHaveProperty('mac');
    expect(sent.length).toBeGreaterThanOrEqual(2);
  });

  it('parseAnnouncement takes a whole proof or none: a partial or malformed one is refused', () => {
    const base = {
      v: 1,
      id: 'x',
      label: '',
      aud: 'echo',
      ver: '1',
      seq: 1,
      stale: false,
      epoch: 0,
      period: 2000,
    };
    const mac = 'A'.repeat(43);
    expect(parseAnnouncement(Buffer.from(JSON.stringify({ ...base, cid: 'svc', n: 1, mac })))).toMatchObject({
      cid: 'svc',
      n: 1,
      mac,
      authenticated: false,
    });
    for (const bad of [
      { ...base, cid: 'svc' },
      { ...base, cid: 'svc', n: 1 },
      { ...base, cid: 'svc', n: -1, mac },
      { ...base, cid: '', n: 1, mac },
      { ...base, cid: 'svc', n: 1, mac: 'short' },
    ])
      expect(parseAnnouncement(Buffer.from(JSON.stringify(bad)))).toBeUndefined();
  });
});
