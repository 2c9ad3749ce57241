import { readKek, readNatsServers } from '../config.js';
import { DEV_KEK_KEY } from '../keys/dev-kek.js';
import { RING_KEY } from '../keys/key-manager.js';
import { parseRing, type StoredRing } from '../keys/ring.js';
import { BUCKETS, connectNats } from '../nats.js';
import { RecordMac, unverifiedBody } from '../stores/record-mac.js';
import type { CommandIo } from './command.js';

/**
 * The key ring as stored, for commands that show or use public key data only (`keys list`, `token
 * inspect`): needs no KEK and creates nothing (no bucket, no ring). With a KEK at hand (`AUTHMESH_KEK`,
 * `AUTHMESH_KEK_FILE`, or in development the stored one) the ring's MAC is checked and a ring that fails
 * is refused; without one, stderr says that it was not checked.
 */
export async function readPublicRing(io: CommandIo): Promise<StoredRing> {
  const nc = await connectNats(readNatsServers(io.env), { name: 'authmesh-cli', reconnectForever: false });
  try {
    const kv = await nc
      .jetstream()
      .views.kv(BUCKETS.keys, { bindOnly: true })
      .catch(() => undefined);
    const entry = await kv?.get(RING_KEY);
    if (!kv || !entry || entry.operation !== 'PUT')
      throw new Error('no key ring in NATS (has the auth service run against this NATS_URL?)');
    let kek: Uint8Array | undefined = readKek(io.env);
    if (kek === undefined && io.env.AUTHMESH_ENV?.trim() === 'development') {
      const dev = await kv.get(DEV_KEK_KEY);
      if (dev?.operation === 'PUT') kek = Buffer.from(dev.string(), 'base64url');
    }
    if (kek === undefined) {
      io.stderr.write('authmesh: no KEK set: the key ring is shown without checking its integrity\n');
      return parseRing(unverifiedBody(entry.value));
    }
    const body = new RecordMac(kek).open(BUCKETS.keys, RING_KEY, entry.value);
    if (body === undefined) {
      throw new Error(
        'the key ring in AUTHMESH_KEYS fails its integrity check under this KEK (written by other code or by someone with NATS access); see `authmesh doctor`',
      );
    }
    return parseRing(body);
  } finally {
    await nc.close();
  }
}
