import type { MeshInstance } from '@authmesh/interceptor/proto';
import { loadConfig } from '../config.js';
import { knownMesh } from '../mesh/known-mesh.js';
import { connectNats, REVOCATION_STREAM } from '../nats.js';
import { unexpectedArgument, type Command } from './command.js';

/**
 * `authmesh mesh status [--json]`: the live protected-service instances (from a running auth replica's
 * roster, else one announcement period of listening) grouped by audience, with how far each has
 * applied the revocation stream. Needs NATS_URL only (no KEK).
 */
export const meshStatus: Command = {
  name: 'mesh status',
  summary: 'list the live protected-service instances and how far each applied the revocation stream',
  usage: `usage: authmesh mesh status [--json]

Lists every live instance (an interceptor's revocation feed announcing itself on authmesh.mesh.>)
grouped by audience: instance id, host/pid label, version, applied sequence, lag behind the stream's
last sequence, stale flag, last seen, identity (the client whose key MACs its announcements, or
unauthenticated). This command holds no KEK: it shows the identity as claimed, where GetMeshStatus and
the /mesh page show what the auth service verified. --json prints one JSON object (the GetMeshStatus
shape). Needs NATS_URL only.`,
  async run(argv, io) {
    // `--json` is global (./main.ts takes it out and sets io.json).
    if (argv.length > 0) throw unexpectedArgument(argv[0]!);
    const config = loadConfig(io.env);
    const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
    try {
      const mesh = await knownMesh(nc);
      const instances = mesh.live.instances();
      mesh.live.close();
      const jsm = await nc.jetstreamManager();
      const last = (await jsm.streams.info(REVOCATION_STREAM)).state.last_seq;
      if (io.json) {
        io.stdout.write(
          `${JSON.stringify({ stream_last_sequence: last, instances, source: mesh.source, truncated: mesh.truncated })}\n`,
        );
        return 0;
      }
      io.stdout.write(renderMeshTable(instances, last, Date.now()));
      if (mesh.source === 'listened')
        io.stderr.write(
          'no auth replica answered the mesh roster request: listed what announced meanwhile\n',
        );
      return 0;
    } finally {
      await nc.close();
    }
  },
};

/** The human table: one block per audience. */
export function renderMeshTable(instances: MeshInstance[], streamLast: number, now: number): string {
  const lines = [`stream last sequence: ${streamLast}; live instances: ${instances.length}`];
  const byAudience = new Map<string, MeshInstance[]>();
  for (const i of instances) {
    const aud = i.audience || '(none)';
    byAudience.set(aud, [...(byAudience.get(aud) ?? []), i]);
  }
  for (const [aud, list] of byAudience) {
    lines.push('', `audience ${aud} (${list.length})`);
    const rows = list.map((i) => [
      i.instance_id ?? '',
      i.label ?? '',
      i.version ?? '',
      String(i.applied_sequence ?? 0),
      String(Math.max(0, streamLast - Number(i.applied_sequence ?? 0))),
      i.stale ? 'yes' : 'no',
      `${Math.max(0, now - Number(i.last_seen_unix_ms ?? 0))} ms ago`,
      // Who the announcements are attributed to (their MAC), or that anyone on NATS could have sent them.
      i.authenticated ? `client ${i.client_id ?? ''}` : 'unauthenticated',
    ]);
    const header = ['INSTANCE', 'LABEL', 'VERSION', 'APPLIED', 'LAG', 'STALE', 'LAST SEEN', 'IDENTITY'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const r of [header, ...rows])
      lines.push(`  ${r.map((v, c) => v.padEnd(widths[c]!)).join('  ')}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
