import type { NatsConnection } from 'nats';
import type { AuthConfig } from '../config.js';
import { Kek } from '../keys/kek.js';
import { createAudit } from '../audit.js';
import { NatsKeyManager } from '../keys/key-manager.js';
import { BUCKETS, connectNats, KEYS_ROTATED_SUBJECT, openBuckets } from '../nats.js';
import type { CommandIo } from './command.js';
import { cliKek, cliRecords } from './kek.js';

/**
 * Runs `fn` with the shared key ring opened the way the service opens it (same env, same KEK), without
 * a watch or schedule, and never creating it (only the auth service does); announces changes on `authmesh.keys.rotated`, flushes and closes NATS after.
 */
export async function withKeyRing<T>(
  config: AuthConfig,
  io: CommandIo,
  fn: (keys: NatsKeyManager, nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  try {
    const buckets = await openBuckets(nc.jetstream(), config.natsReplicas, config.refreshAbsoluteTtlSec);
    const audit = createAudit({ nc });
    const kek = await cliKek(config, buckets.keys, io);
    const keys = await NatsKeyManager.open({
      kv: cliRecords(kek, io).wrap(buckets.keys, BUCKETS.keys),
      kek: new Kek(kek),
      alg: config.signingAlg,
      accessTtlSec: config.accessTtlSec,
      clockSkewSec: config.clockSkewSec,
      rotationIntervalSec: 0,
      create: false,
      watch: false,
      announce: (event) => {
        nc.publish(KEYS_ROTATED_SUBJECT, JSON.stringify({ ...event, at: Math.floor(Date.now() / 1000) }));
        audit.record({
          event: 'key_rotated',
          kid: event.current,
          reason: event.withdrawn ? `withdrawn ${event.withdrawn}` : 'rotation (cli)',
        });
      },
    });
    try {
      const result = await fn(keys, nc);
      await nc.flush();
      return result;
    } finally {
      await keys.close();
    }
  } finally {
    await nc.close();
  }
}
