import { unexpectedArgument, type Command } from './command.js';
import { readPublicRing } from './public-ring.js';

/** `authmesh keys list`: the ring's public view (kid, state, alg, times); no private material. */
export const keysList: Command = {
  name: 'keys list',
  summary: 'list the signing keys of the shared ring (public data only)',
  usage: `usage: authmesh keys list

Prints one JSON line per key: kid, state (current | next | retired), alg and its timestamps.
Reads public data only: needs NATS_URL, no KEK, and creates nothing.`,
  async run(argv, io) {
    if (argv.length > 0) throw unexpectedArgument(argv[0]!);
    const rows = (await readPublicRing(io)).keys.map((k) => ({
      kid: k.kid,
      state: k.state,
      alg: k.alg,
      created_at: iso(k.createdAt),
      activated_at: iso(k.activatedAt),
      retired_at: iso(k.retiredAt),
    }));
    for (const row of rows) io.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  },
};

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
