// Receipt latency: how long Revoke{wait_ms} takes to return with every live instance's confirmation,
// beside plain Revoke (no wait) in the same run, at 5 and 20 echo instances (real processes, one
// nats-server, one auth service). Run after `npm run build`:
//   node bench/receipts/receipts.mjs [--sizes 5,20] [--n 100] [--unauthenticated]
// The echos have client credentials, so their announcements are MACed and verified (the realistic
// case); --unauthenticated starts them without.
// Prints p50/p99 (ms) per size and the load average, since the machine may be shared.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { authGrpc } from '@authmesh/interceptor/proto';
import { startMesh } from '../lib/mesh.mjs';
import { fmt, percentiles } from '../lib/stats.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg('sizes', '5,20').split(',').map(Number);
const n = Number(arg('n', '100'));
const WAIT_MS = 5000;

const unary = (client, method, req, token) =>
  new Promise((resolve, reject) => {
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    client[method](req, md, { deadline: Date.now() + 30_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });

const unauthenticated = process.argv.includes('--unauthenticated');

const mesh = await startMesh({
  clients: [
    { id: 'admin', scopes: ['authmesh:admin'] },
    { id: 'echo-svc', scopes: ['authmesh:exchange'] },
  ],
});
const echoEnv = unauthenticated
  ? {}
  : { AUTHMESH_CLIENT_ID: 'echo-svc', AUTHMESH_CLIENT_SECRET: mesh.secrets['echo-svc'] };
try {
  const { AuthService } = authGrpc().authmesh.v1;
  const client = new AuthService(mesh.auth.grpc, grpc.credentials.createInsecure());
  const admin = (
    await unary(client, 'IssueToken', {
      client_credentials: { client_id: 'admin', client_secret: mesh.secrets.admin },
    })
  ).access_token;
  const rows = [];
  for (const size of sizes) {
    await mesh.addEchoes(size - mesh.echoes.length, 4, echoEnv);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await unary(client, 'GetMeshStatus', {}, admin);
      const echoes = s.instances.filter((i) => i.audience === 'echo' && i.authenticated !== unauthenticated);
      if (echoes.length >= size) break;
      if (Date.now() > deadline) throw new Error(`${size} echo instances not live within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const plain = [];
    const receipt = [];
    let incomplete = 0;
    let instances = 0;
    let authenticated = 0;
    // Interleaved, so both see the same load.
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await unary(client, 'Revoke', { jti: randomBytes(8).toString('hex') }, admin);
      plain.push(performance.now() - t);
      t = performance.now();
      const r = await unary(
        client,
        'Revoke',
        { jti: randomBytes(8).toString('hex'), wait_ms: WAIT_MS },
        admin,
      );
      receipt.push(performance.now() - t);
      if (r.pending.length > 0) incomplete++;
      instances = r.applied.length + r.pending.length;
      authenticated = [...r.applied, ...r.pending].filter((x) => x.authenticated).length;
    }
    const p = percentiles(plain);
    const q = percentiles(receipt);
    rows.push({
      size,
      instances,
      authenticated,
      plain: p,
      receipt: q,
      incomplete,
      load: loadavg().map((x) => x.toFixed(2)),
    });
    console.log(
      `${size} echos (${instances} instances incl. the auth service's own feed, ${authenticated} authenticated), n=${n}: ` +
        `plain Revoke p50 ${fmt(p.p50)} ms p99 ${fmt(p.p99)} ms; ` +
        `Revoke{wait_ms} with all confirmations p50 ${fmt(q.p50)} ms p99 ${fmt(q.p99)} ms; ` +
        `incomplete ${incomplete}; loadavg ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
  }
  console.log(JSON.stringify({ bench: 'receipts', cpus: (await import('node:os')).cpus().length, rows }));
  client.close();
} finally {
  await mesh.stop();
}
