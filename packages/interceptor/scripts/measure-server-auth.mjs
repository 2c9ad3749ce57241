// Quick measurement (not a test): warm-token unary calls/s through createServerAuth vs the same
// server without interceptor, plus the cold verify rate. Run after `npx tsc -b packages/interceptor`:
//   node packages/interceptor/scripts/measure-server-auth.mjs [seconds=5] [inflight=64] [rounds=3]
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { echoGrpc } from '@authmesh/proto';
import { createServerAuth, findPrincipal } from '../dist/index.js';

const ISSUER = 'https://issuer.bench';
const [secs = '5', inflight = '64', rounds = '3'] = process.argv.slice(2);

async function makeKey() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' } };
}
const sign = (k, sub) =>
  new SignJWT({ client_id: 'c', scope: 'echo:read', jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience('echo')
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(k.privateKey);

if (process.argv[2] === '--server') {
  // Child: serve echo with or without auth, report CPU used between 'start' and 'stop'.
  const withAuth = process.argv[3] === 'auth';
  const jwk = JSON.parse(process.argv[4]);
  const auth = withAuth
    ? createServerAuth({
        issuer: ISSUER,
        audience: 'echo',
        jwks: { source: async () => ({ keys: [jwk] }) },
        revocations: { allowInsecureNoRevocations: true },
      })
    : undefined;
  const server = new grpc.Server(auth ? { interceptors: [auth.interceptor] } : {});
  server.addService(echoGrpc().echo.v1.Echo.service, {
    Ping: (_c, cb) => cb(null, { message: 'pong' }),
    WhoAmI: (call, cb) => cb(null, { sub: findPrincipal(call)?.sub ?? '' }),
    Admin: (_c, cb) => cb(null, { status: 'ok' }),
    Relay: (_c, cb) => cb(null, {}),
    StreamWhoAmI: (c) => c.end(),
  });
  const port = await new Promise((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  await auth?.ready();
  let cpu0;
  process.on('message', (m) => {
    if (m === 'start') cpu0 = process.cpuUsage();
    if (m === 'stop') {
      const d = process.cpuUsage(cpu0);
      process.send({ cpuUs: d.user + d.system }, () => process.exit(0));
    }
  });
  process.send({ port });
} else {
  const key = await makeKey();
  const token = await sign(key, 'bench');

  async function run(mode) {
    const child = fork(new URL(import.meta.url), ['--server', mode, JSON.stringify(key.jwk)]);
    const { port } = await new Promise((r) => child.once('message', r));
    const client = new (echoGrpc().echo.v1.Echo)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const call = () => new Promise((res, rej) => client.WhoAmI({}, md, (e, v) => (e ? rej(e) : res(v))));
    for (let i = 0; i < 2000; i++) await call(); // warm up (and fill the token cache)
    child.send('start');
    const end = Date.now() + Number(secs) * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: Number(inflight) }, async () => {
        while (Date.now() < end) {
          await call();
          n++;
        }
      }),
    );
    child.send('stop');
    const { cpuUs } = await new Promise((r) => child.once('message', r));
    client.close();
    const rate = n / Number(secs);
    console.log(`${mode.padEnd(6)} ${rate.toFixed(0)} calls/s, server CPU ${(cpuUs / n).toFixed(1)} µs/call`);
    return { rate, cpuPerCall: cpuUs / n };
  }

  // Alternate the two servers a few times: on a shared 2-core box absolute figures drift, ratios less.
  const ratios = [];
  const cpu = [];
  for (let round = 0; round < Number(rounds); round++) {
    const none = await run('none');
    const auth = await run('auth');
    ratios.push(auth.rate / none.rate);
    cpu.push(auth.cpuPerCall - none.cpuPerCall);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `warm-token calls/s ratio auth/none: median ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}); ` +
      `server CPU added: median ${median(cpu).toFixed(1)} µs/call`,
  );

  // The server's own ceiling: h2load (nghttp2) drives it much harder than a grpc-js client can.
  let hasH2load = true;
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
  } catch {
    hasH2load = false;
  }
  if (hasH2load) {
    const body = join(tmpdir(), `authmesh-h2load-${process.pid}.bin`);
    writeFileSync(body, Buffer.from([0, 0, 0, 0, 0])); // a gRPC frame: uncompressed, empty WhoAmIRequest
    const h2 = { none: [], auth: [] };
    for (let round = 0; round < Number(rounds); round++) {
      for (const mode of ['none', 'auth']) {
        const child = fork(new URL(import.meta.url), ['--server', mode, JSON.stringify(key.jwk)]);
        const { port } = await new Promise((r) => child.once('message', r));
        const out = execFileSync(
          'h2load',
          [
            '-n',
            '60000',
            '-c',
            '2',
            '-m',
            '64',
            '-d',
            body,
            '-H',
            'content-type: application/grpc',
            '-H',
            'te: trailers',
            '-H',
            `authorization: Bearer ${token}`,
            `http://127.0.0.1:${port}/echo.v1.Echo/WhoAmI`,
          ],
          { encoding: 'utf8' },
        );
        h2[mode].push(Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1]));
        child.kill();
      }
    }
    console.log(
      `h2load calls/s none: ${h2.none.map((x) => x.toFixed(0)).join(', ')}; auth: ${h2.auth.map((x) => x.toFixed(0)).join(', ')}; ` +
        `ratio of medians ${(median(h2.auth) / median(h2.none)).toFixed(2)}`,
    );
  }

  // Cold path: every token distinct, verified once (signature + claims), in-process.
  const sa = createServerAuth({
    issuer: ISSUER,
    audience: 'echo',
    jwks: { source: async () => ({ keys: [key.jwk] }) },
    revocations: { allowInsecureNoRevocations: true },
    cacheSize: 0,
  });
  await sa.ready();
  const tokens = await Promise.all(Array.from({ length: 4000 }, (_, i) => sign(key, `u${i}`)));
  for (const conc of [1, 16]) {
    const t0 = process.hrtime.bigint();
    let i = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (i < tokens.length) await sa.verify(tokens[i++]);
      }),
    );
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`cold verify (EdDSA, ${conc} in flight): ${(tokens.length / s).toFixed(0)}/s`);
  }
  const warm0 = process.hrtime.bigint();
  const wsa = createServerAuth({
    issuer: ISSUER,
    audience: 'echo',
    jwks: { source: async () => ({ keys: [key.jwk] }) },
    revocations: { allowInsecureNoRevocations: true },
  });
  await wsa.ready();
  await wsa.verify(token);
  const W = 200_000;
  const w0 = process.hrtime.bigint();
  for (let j = 0; j < W; j++) await wsa.verify(token);
  void warm0;
  console.log(
    `warm verify() (awaited): ${(W / (Number(process.hrtime.bigint() - w0) / 1e9) / 1000).toFixed(0)}k/s`,
  );
  await sa.close();
  await wsa.close();
}
