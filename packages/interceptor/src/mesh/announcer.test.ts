import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { parseAnnouncement } from './announcement.js';
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
});
