import { loadConfig } from '../config.js';
import { unexpectedArgument, type Command } from './command.js';
import { withKeyRing } from './key-ring.js';

/**
 * `authmesh keys rotate`: promotes the pre-published next key on the shared ring (compare-and-set, so it
 * races safely with running replicas), retires the current one and publishes a new next key. Running
 * services pick the change up through their KV watch; interceptors through `authmesh.keys.rotated`.
 */
export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'rotate the signing key now (running services follow through NATS)',
  usage: `usage: authmesh keys rotate

Promotes the pre-published next key to current, retires the current key (it keeps verifying tokens
until they expire: access TTL + clock skew) and publishes a new next key. Prints one JSON line.

Environment: NATS_URL, AUTHMESH_KEK (or AUTHMESH_ENV=development), AUTHMESH_SIGNING_ALG,
AUTHMESH_ACCESS_TTL, AUTHMESH_CLOCK_SKEW, AUTHMESH_NATS_REPLICAS.`,
  async run(argv, io) {
    if (argv.length > 0) throw unexpectedArgument(argv[0]!);
    const config = loadConfig(io.env);
    const result = await withKeyRing(config, io, async (keys) => {
      const previous = keys.current().kid;
      await keys.rotate();
      const next = keys.ring.keys.find((k) => k.state === 'next')?.kid;
      return { previous, current: keys.current().kid, next };
    });
    io.stdout.write(`${JSON.stringify({ event: 'keys-rotated', ...result })}\n`);
    return 0;
  },
};
