// The issuance bench's load process: AuthService calls at a fixed concurrency for a fixed time.
// `jwks` (GetJwks, the baseline: a trivial RPC on the same server), `cc` (IssueToken with
// client_credentials), `refresh` (each worker rotates its own refresh-token chain), and `login`
// (sequential password grants, latency only).
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { authGrpc, authPackageDefinition } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';
import { grpcFrame } from '../lib/h2load.mjs';

let auth;
/** The replica the refresh chains are opened through (its scrypt cost is the refresh user's). */
let opener;
let cfg;
/** Per-worker refresh tokens, kept across rounds (each Refresh rotates the worker's own chain). */
const chains = [];

function unary(method, req, client = auth) {
  return new Promise((resolve, reject) =>
    client[method](req, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

const login = (user, client = auth) =>
  unary(
    'IssueToken',
    { password: { username: user.name, password: user.password }, audience: ['echo'] },
    client,
  );

async function chain(i) {
  chains[i] ??= (await login(cfg.refreshUser, opener)).refresh_token;
  return chains[i];
}

const calls = {
  jwks: () => unary('GetJwks', {}),
  cc: () =>
    unary('IssueToken', {
      client_credentials: { client_id: cfg.clientId, client_secret: cfg.clientSecret },
      audience: ['echo'],
    }),
  refresh: async (i) => {
    try {
      chains[i] = (await unary('Refresh', { refresh_token: await chain(i) })).refresh_token;
    } catch (err) {
      chains[i] = undefined; // start a new chain next time
      throw err;
    }
  },
  /** Refresh through the lean HTTP/2 client (rawRefresh), same chains. */
  'refresh-h2': async (i) => {
    try {
      chains[i] = (await rawRefresh(await chain(i))).refresh_token;
    } catch (err) {
      chains[i] = undefined;
      throw err;
    }
  },
};

/**
 * Refresh over node:http2 directly: one HTTP/2 session, the gRPC frames made by protobufjs, no
 * grpc-js channel, call or interceptor stack in the client. The chains cannot be replayed by h2load
 * (every request carries the previous answer's token), so this is the lean client for Refresh: it
 * shows the auth process's ceiling, as h2load does for GetJwks and IssueToken.
 */
let h2session;
let refreshMethod;
function rawRefresh(token) {
  return new Promise((resolve, reject) => {
    const stream = h2session.request({
      ':method': 'POST',
      ':path': refreshMethod.path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks = [];
    let status;
    stream.on('data', (c) => chunks.push(c));
    stream.on('trailers', (t) => (status = t['grpc-status']));
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = h['grpc-status'];
    });
    stream.on('error', reject);
    stream.on('end', () => {
      if (status !== '0') return reject(Object.assign(new Error('grpc error'), { code: Number(status) }));
      const body = Buffer.concat(chunks);
      resolve(refreshMethod.responseDeserialize(body.subarray(5)));
    });
    stream.end(grpcFrame(refreshMethod.requestSerialize({ refresh_token: token })));
  });
}

serveCommands(
  {
    init(c) {
      cfg = c;
      const { AuthService } = authGrpc().authmesh.v1;
      auth = new AuthService(c.authTarget, grpc.credentials.createInsecure());
      opener = new AuthService(c.openerTarget ?? c.authTarget, grpc.credentials.createInsecure());
      refreshMethod = authPackageDefinition()['authmesh.v1.AuthService'].Refresh;
      h2session = http2.connect(`http://${c.authTarget}`);
      h2session.on('error', () => {});
      return {};
    },
    /** Opens the refresh chains of `concurrency` workers up front (logins are not part of the rate). */
    async prepare({ concurrency }) {
      const t0 = performance.now();
      // 4 logins at a time: a login reserves a place in the (username, peer) budget before its hash
      // (AUTHMESH_LOGIN_MAX_FAILURES, 5), so more concurrent logins of one user from one address are throttled.
      for (let i = 0; i < concurrency; i += 4)
        await Promise.all(Array.from({ length: Math.min(4, concurrency - i) }, (_, k) => chain(i + k)));
      return { ms: performance.now() - t0 };
    },
    async rate({ kind, concurrency, durationMs }) {
      const fn = calls[kind];
      const lat = [];
      const errors = {};
      let ok = 0;
      const start = performance.now();
      const end = start + durationMs;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          for (let t0 = performance.now(); t0 < end; t0 = performance.now()) {
            try {
              await fn(i);
              ok++;
            } catch (err) {
              errors[err.code ?? 'x'] = (errors[err.code ?? 'x'] ?? 0) + 1;
            }
            lat.push(performance.now() - t0);
          }
        }),
      );
      const elapsed = performance.now() - start;
      lat.sort((a, b) => a - b);
      const q = (p) => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)];
      return { rate: (ok / elapsed) * 1000, p50: q(0.5), p99: q(0.99), errors };
    },
    /** `count` sequential password logins of the user hashed with the production cost. */
    async login({ count }) {
      const lat = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await login(cfg.prodUser);
        lat.push(performance.now() - t0);
      }
      return { latenciesMs: lat };
    },
  },
  async () => {
    auth?.close();
    h2session?.close();
  },
);
