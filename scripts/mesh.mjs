// `npm start`: the whole authmesh on this machine in one command (after `npm run build`).
// NATS (NATS_URL if it answers, else a local nats-server), the auth service, two echo instances,
// and a demo user. Ctrl-C stops everything this script started.
import { startMesh } from './mesh-lib.mjs';

const log = (msg) => console.error(`[mesh] ${msg}`);
// Child logs are JSON lines (pino); show them prefixed, unless MESH_QUIET=1.
const onStderr =
  process.env.MESH_QUIET === '1'
    ? undefined
    : (name, text) => {
        for (const line of text.split('\n')) if (line) process.stderr.write(`[${name}] ${line}\n`);
      };

let mesh;
try {
  mesh = await startMesh({ log, onStderr });
} catch (err) {
  console.error(`[mesh] could not start: ${err.message}`);
  process.exit(1);
}
mesh.writeMeshFile();

const { creds } = mesh;
const pw = creds.created
  ? `${creds.password}   (printed once; kept in .authmesh/demo-credentials.json)`
  : '(see .authmesh/demo-credentials.json)';
console.log(`
authmesh is running
  NATS            ${mesh.nats}
  auth (gRPC)     ${mesh.auth}      HTTP http://${mesh.authHttp}/.well-known/jwks.json
  echo            ${mesh.echo}      (AUTHMESH_AUDIENCE=echo)
  echo-b          ${mesh.echoB}      (AUTHMESH_AUDIENCE=echo-b)
  demo user       ${creds.username} / ${pw}
                  (scopes echo:read echo:admin, audiences echo echo-b)

Try it (in another terminal):
  npm run demo          login, WhoAmI, Relay, refresh, revoke, step by step

Or from node (ESM, in this repo):
  import * as grpc from '@grpc/grpc-js';
  import { echoGrpc } from '@authmesh/proto';
  import { passwordSource, authInterceptor } from '@authmesh/interceptor';
  const source = passwordSource({ authTarget: '${mesh.auth}', username: '${creds.username}', password: process.env.PW, audience: 'echo' });
  const echo = new (echoGrpc().echo.v1.Echo)('${mesh.echo}', grpc.credentials.createInsecure(), { interceptors: [authInterceptor(source)] });
  echo.WhoAmI({}, (err, me) => console.log(err ?? me));

Ctrl-C stops everything.`);

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  await mesh.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
for (const child of mesh.children) {
  child.proc.once('exit', (c, signal) => {
    if (stopping) return;
    log(`${child.name} exited unexpectedly (${c ?? signal}); stopping the mesh`);
    void stop(1);
  });
}
