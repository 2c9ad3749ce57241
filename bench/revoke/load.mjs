// The revocation-rate bench's load process: fires Revoke RPCs at the auth service over gRPC with an
// admin token, each for a distinct jti or subject, `concurrency` in flight, until `count` answers or
// `timeMs`. Requests are serialized by hand (RevokeRequest is two strings) and answers not decoded,
// so the client spends as little CPU per call as a grpc-js client can.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { authGrpc } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';

const REVOKE = '/authmesh.v1.AuthService/Revoke';
const identity = (b) => b;
/** RevokeRequest field numbers (proto/authmesh/v1/auth.proto). */
const FIELD = { jti: 2, sub: 4, reason: 7 };
const REASON = Buffer.from('bench incident');

let auth;
let clients = [];
let admin;

/** One length-delimited protobuf field (tag < 16, length < 128). */
function field(no, bytes) {
  return Buffer.concat([Buffer.from([(no << 3) | 2, bytes.length]), bytes]);
}

const request = (kind, value) =>
  Buffer.concat([field(FIELD[kind], Buffer.from(value)), field(FIELD.reason, REASON)]);

serveCommands(
  {
    async init({ authTarget, adminId, adminSecret, connections = 1 }) {
      const { AuthService } = authGrpc().authmesh.v1;
      auth = new AuthService(authTarget, grpc.credentials.createInsecure());
      const r = await new Promise((resolve, reject) =>
        auth.IssueToken(
          { client_credentials: { client_id: adminId, client_secret: adminSecret } },
          new grpc.Metadata(),
          { deadline: Date.now() + 30_000 },
          (e, res) => (e ? reject(e) : resolve(res)),
        ),
      );
      admin = new grpc.Metadata();
      admin.set('authorization', `Bearer ${r.access_token}`);
      // Distinct channel options: grpc-js would otherwise share one subchannel between clients.
      clients = Array.from(
        { length: connections },
        (_, i) => new grpc.Client(authTarget, grpc.credentials.createInsecure(), { 'grpc.bench_channel': i }),
      );
      return { connections };
    },
    /** `count` Revokes of `${prefix}-<i>` (kind jti or sub), `concurrency` in flight, at most `timeMs`. */
    async run({ kind, prefix, count, concurrency, timeMs }) {
      const reqs = Array.from({ length: count }, (_, i) => request(kind, `${prefix}-${i}`));
      const lat = new Float64Array(count);
      const errors = {};
      let next = 0;
      let done = 0;
      const t0 = performance.now();
      const end = t0 + timeMs;
      await new Promise((resolve) => {
        let active = 0;
        const launch = (w) => {
          if (next >= count || performance.now() >= end) {
            if (--active === 0) resolve();
            return;
          }
          const i = next++;
          const s = performance.now();
          clients[w % clients.length].makeUnaryRequest(
            REVOKE,
            identity,
            identity,
            reqs[i],
            admin,
            { deadline: Date.now() + 30_000 },
            (err) => {
              if (err) errors[err.code] = (errors[err.code] ?? 0) + 1;
              else lat[done++] = performance.now() - s;
              launch(w);
            },
          );
        };
        for (let w = 0; w < concurrency; w++) {
          active++;
          launch(w);
        }
      });
      const elapsedMs = performance.now() - t0;
      const ok = Array.from(lat.subarray(0, done)).sort((a, b) => a - b);
      const q = (p) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(p * ok.length))] : NaN);
      return {
        sent: next,
        ok: done,
        errors,
        elapsedMs,
        perSec: (done / elapsedMs) * 1000,
        p50: q(0.5),
        p99: q(0.99),
      };
    },
  },
  async () => {
    auth?.close();
    for (const c of clients) c.close();
  },
);
