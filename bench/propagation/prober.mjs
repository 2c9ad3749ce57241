// The propagation bench's load process: polls every echo instance with WhoAmI in a tight loop
// (one call in flight per instance) while the token is revoked, and reports, per instance, the ms
// from Revoke's return to the first rejected call's answer.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { authGrpc } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';

const WHOAMI = '/echo.v1.Echo/WhoAmI';
const empty = Buffer.alloc(0);
const identity = (b) => b;
let auth;
let echoes = [];
let creds;
let admin;
let nc;
/** jti → when a plain NATS subscriber in this process saw its revocation event (the transport baseline). */
const seen = new Map();
/** The same, in ms of CLOCK_MONOTONIC (process.hrtime): one clock for every process on the machine. */
const seenMono = new Map();
const mono = () => Number(process.hrtime.bigint()) / 1e6;

function unary(client, method, req, token) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    client[method](req, md, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

/** WhoAmI at one instance: resolves with the gRPC status code (0 = OK). */
function whoAmI(client, token) {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client.makeUnaryRequest(WHOAMI, identity, identity, empty, md, { deadline: Date.now() + 5000 }, (e) =>
      resolve(e ? e.code : 0),
    ),
  );
}

const jtiOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).jti;

async function adminToken() {
  if (!admin || admin.until < Date.now()) {
    const r = await unary(auth, 'IssueToken', {
      client_credentials: { client_id: creds.adminId, client_secret: creds.adminSecret },
    });
    admin = { token: r.access_token, until: Date.now() + (r.expires_in * 1000) / 2 };
  }
  return admin.token;
}

serveCommands(
  {
    async init({ authTarget, echoTargets, natsUrl, ...c }) {
      creds = c;
      nc = await connect({ servers: natsUrl });
      nc.subscribe('authmesh.revoked.>', {
        callback: (_err, m) => {
          const t = performance.now();
          const tm = mono();
          try {
            const jws = m.string();
            const claims = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString());
            seen.set(claims.value, t);
            if (claims.value.startsWith('feeds-')) seenMono.set(claims.value, tm);
          } catch {
            // not an event we can read
          }
        },
      });
      await nc.flush();
      const { AuthService } = authGrpc().authmesh.v1;
      auth = new AuthService(authTarget, grpc.credentials.createInsecure());
      echoes = echoTargets.map((t) => new grpc.Client(t, grpc.credentials.createInsecure()));
      return { instances: echoes.length };
    },
    /**
     * `n` revocations of fresh jtis, one at a time, `gapMs` (± half, random) apart, for the feed hosts
     * to time: ms of CLOCK_MONOTONIC (`process.hrtime`, one clock for every process on a Linux machine)
     * of each Revoke's call and return and of the event on NATS (a plain subscriber here).
     */
    async revokeSeries({ n, gapMs }) {
      const adm = await adminToken();
      const out = [];
      for (let i = 0; i < n; i++) {
        const jti = `feeds-${process.pid}-${Date.now()}-${i}`;
        const tCall = mono();
        await unary(auth, 'Revoke', { jti, reason: 'bench' }, adm);
        const tReturn = mono();
        // Spaced so that one revocation's fan-out is over before the next; jittered so it never beats
        // in step with the feeds' 1 s checks or 2 s announcements.
        await new Promise((r) => setTimeout(r, gapMs * (0.5 + Math.random())));
        const natsSeen = seenMono.get(jti);
        seen.delete(jti);
        seenMono.delete(jti);
        out.push({ value: jti, call: tCall, ret: tReturn, nats: natsSeen ?? null });
      }
      return out;
    },
    async trial({ leadMs = 30, timeoutMs = 5000 }) {
      const adm = await adminToken();
      const { access_token: token } = await unary(auth, 'IssueToken', {
        client_credentials: { client_id: creds.svcId, client_secret: creds.svcSecret },
        audience: ['echo'],
      });
      // Every instance has verified (and cached) the token before it is revoked.
      const warm = await Promise.all(echoes.map((c) => whoAmI(c, token)));
      if (warm.some((code) => code !== 0))
        throw new Error(`token not accepted before the revocation: ${warm.join(',')}`);
      const polls = echoes.map(() => 0);
      const loops = echoes.map(async (c, i) => {
        const t0 = performance.now();
        for (;;) {
          const code = await whoAmI(c, token);
          const t = performance.now();
          polls[i]++;
          if (code === grpc.status.UNAUTHENTICATED) return t;
          if (code !== 0) throw new Error(`instance ${i}: unexpected status ${code}`);
          if (t - t0 > timeoutMs) return NaN;
        }
      });
      await new Promise((r) => setTimeout(r, leadMs));
      const tCall = performance.now();
      const jti = jtiOf(token);
      await unary(auth, 'Revoke', { jti, reason: 'bench' }, adm);
      const tReturn = performance.now();
      const rejectedAt = await Promise.all(loops);
      const natsSeen = seen.get(jti);
      seen.clear();
      const elapsed = performance.now() - tCall + leadMs;
      return {
        latenciesMs: rejectedAt.map((t) => t - tReturn),
        revokeMs: tReturn - tCall,
        natsSeenMs: natsSeen === undefined ? NaN : natsSeen - tReturn,
        pollIntervalMs: polls.map((n) => elapsed / n),
      };
    },
  },
  async () => {
    auth?.close();
    for (const c of echoes) c.close();
    await nc?.close();
  },
);
