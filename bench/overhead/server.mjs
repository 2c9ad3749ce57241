// The overhead bench's server process: one grpc-js Server per interceptor variant, all serving
// bench.v1.Bench (Public + Authed, same messages), on 127.0.0.1:0. Driven over IPC by run.mjs:
// `start` → addresses, `snapshot` → {cpuUs, calls, gcMs} so the parent can compute CPU µs per call.
import * as grpc from '@grpc/grpc-js';
import { PerformanceObserver } from 'node:perf_hooks';
import { importJWK } from 'jose';
import { loadProto } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';
import { benchProtoFile } from '../lib/bench-proto.mjs';
import { benchAudience, benchIssuer, publicKeyForms } from '../lib/keys.mjs';
import { fastJwtInterceptor, joseInterceptor } from './peers.mjs';
import { benchRevocationFeed, benchServerAuth } from '../lib/authmesh.mjs';

const packageDefinition = loadProto(benchProtoFile);
const service = grpc.loadPackageDefinition(packageDefinition).bench.v1.Bench.service;

let calls = 0;
/** Time spent in GC pauses so far, ms (PerformanceObserver 'gc' entries: the pauses the main thread took). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const echo = (call, cb) => {
  calls++;
  cb(null, call.request);
};

const servers = [];
const closers = [];

async function listen(interceptors) {
  const server = new grpc.Server({ interceptors });
  server.addService(service, { Public: echo, Authed: echo });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  servers.push(server);
  return `127.0.0.1:${port}`;
}

/** authmesh's interceptor; `revocations` is `{ feed }` or the insecure opt-out. */
async function authmeshInterceptor(publicJwk, revocations) {
  const auth = await benchServerAuth({
    publicJwk,
    issuer: benchIssuer,
    audience: benchAudience,
    revocations,
    packageDefinition,
  });
  closers.push(() => auth.close());
  return auth.interceptor;
}

async function revocationFeed(natsUrl, publicJwk) {
  const { keys, feed } = await benchRevocationFeed({ publicJwk, issuer: benchIssuer, natsUrl });
  closers.push(
    () => keys.close(),
    () => feed.close(),
  );
  await Promise.race([
    feed.ready(),
    new Promise((_, rej) => setTimeout(() => rej(new Error('revocation feed not ready in 15 s')), 15_000)),
  ]);
  return { feed };
}

serveCommands(
  {
    async start({ publicJwk, natsUrl }) {
      const { pem } = publicKeyForms(publicJwk);
      const joseKey = await importJWK(publicJwk, 'EdDSA');
      const peer = { issuer: benchIssuer, audience: benchAudience };
      const addrs = { none: await listen([]) };
      addrs.jose = await listen([joseInterceptor({ ...peer, key: joseKey })]);
      addrs.fastjwt = await listen([fastJwtInterceptor({ ...peer, pem })]);
      const unavailable = {};
      try {
        addrs.authmesh = await listen([
          await authmeshInterceptor(publicJwk, { allowInsecureNoRevocations: true }),
        ]);
      } catch (err) {
        unavailable.authmesh = String(err.message ?? err).split('\n')[0];
      }
      if (natsUrl && addrs.authmesh) {
        try {
          addrs.authmeshFeed = await listen([
            await authmeshInterceptor(publicJwk, await revocationFeed(natsUrl, publicJwk)),
          ]);
        } catch (err) {
          unavailable.authmeshFeed = String(err.message ?? err).split('\n')[0];
        }
      }
      return { addrs, unavailable };
    },
    snapshot() {
      const u = process.cpuUsage();
      return { cpuUs: u.user + u.system, calls, gcMs, rssBytes: process.memoryUsage().rss };
    },
  },
  async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.tryShutdown(() => r()))));
    for (const c of closers.reverse()) await c();
  },
);
