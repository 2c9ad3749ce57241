import type { NatsConnection } from 'nats';
import type { AuthConfig } from '../config.js';
import { Kek } from '../keys/kek.js';
import { createAudit } from '../audit.js';
import { NatsKeyManager } from '../keys/key-manager.js';
import { connectNats, KEYS_ROTATED_SUBJECT } from '../nats.js';
import type { CommandIo } from './command.js';
import { openCliStore, storedLifetimes } from './store.js';

/**
 * Runs `fn` with the shared key ring opened the way the service opens it (same KEK, the lifetimes the
 * service stored), without a watch or schedule, and never creating it (only the auth service does); announces changes on `authmesh.keys.rotated`, flushes and closes NATS after.
 */
export async function withKeyRing<T>(
  config: AuthConfig,
  io: CommandIo,
  fn: (keys: NatsKeyManager, nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  try {
    const store = await openCliStore(nc, config, io);
    // Retired keys are pruned after the service's token lifetime, not this shell's AUTHMESH_ACCESS_TTL.
    const lifetimes = storedLifetimes(store);
    const audit = createAudit({ nc });
    const keys = await NatsKeyManager.open({
      kv: store.keys,
      kek: new Kek(store.kek),
      alg: config.signingAlg,
      accessTtlSec: lifetimes.accessTtlSec,
      clockSkewSec: lifetimes.clockSkewSec,
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
