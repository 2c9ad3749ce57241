import { readNatsServers } from '../config.js';
import { RING_KEY } from '../keys/key-manager.js';
import { parseRing, type StoredRing } from '../keys/ring.js';
import { BUCKETS, connectNats } from '../nats.js';
import type { CommandIo } from './command.js';

/**
 * The key ring as stored, for commands that show or use public key data only (`keys list`, `token
 * inspect`): needs no KEK and creates nothing (no bucket, no ring).
 */
export async function readPublicRing(io: CommandIo): Promise<StoredRing> {
  const nc = await connectNats(readNatsServers(io.env), { name: 'authmesh-cli', reconnectForever: false });
  try {
    let entry;
    try {
      const kv = await nc.jetstream().views.kv(BUCKETS.keys, { bindOnly: true });
      entry = await kv.get(RING_KEY);
    } catch {
      entry = null;
    }
    if (!entry || entry.operation !== 'PUT')
      throw new Error('no key ring in NATS (has the auth service run against this NATS_URL?)');
    return parseRing(entry.value);
  } finally {
    await nc.close();
  }
}
