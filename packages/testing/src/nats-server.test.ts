import { describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { NatsServer } from './nats-server.js';

describe('NatsServer', () => {
  it('starts JetStream on a free loopback port, keeps data across restart, and stops', async () => {
    const server = await NatsServer.start();
    try {
      expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      let nc = await connect({ servers: server.url });
      let jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
      await nc.jetstream().publish('t.x', new TextEncoder().encode('hi'));
      await nc.close();

      server.kill();
      await server.restart();
      nc = await connect({ servers: server.url });
      jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info('T')).state.messages).toBe(1);
      await nc.close();
    } finally {
      await server.stop();
    }
    expect(server.running).toBe(false);
  });
});
