// `npm run demo`: a guided tour of authmesh for a newcomer. Uses the mesh started by `npm start`
// (found through .authmesh/mesh.json), or starts one itself and stops it at the end.
import * as grpc from '@grpc/grpc-js';
import { authGrpc, echoGrpc } from '@authmesh/proto';
import { runningMesh, startMesh, sleep } from './mesh-lib.mjs';

const insecure = grpc.credentials.createInsecure();
let step = 0;

/** Runs one step, printing its title, what it shows and how long it took. */
async function show(title, fn) {
  step += 1;
  const t0 = performance.now();
  let result;
  let error;
  try {
    result = await fn();
  } catch (err) {
    error = err;
  }
  const ms = (performance.now() - t0).toFixed(1);
  console.log(`\n${step}. ${title}  (${ms} ms)`);
  if (error)
    console.log(
      `   → ${grpc.status[error.code] ?? 'error'} (${error.code}): ${error.details ?? error.message}`,
    );
  else if (result !== undefined) console.log(indent(result));
  return { result, error };
}

const indent = (v) =>
  (typeof v === 'string' ? v : JSON.stringify(v, null, 2))
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');

/** The claims of a JWT, decoded (not verified) for display; the token itself is never printed. */
function claimsOf(token) {
  const { iss, sub, aud, exp, iat, jti, sid, scope, roles, client_id, act } = JSON.parse(
    Buffer.from(token.split('.')[1], 'base64url').toString(),
  );
  return { iss, sub, aud, scope, roles, client_id, sid, jti, act, lifetime_s: exp - iat };
}

function unary(client, method, request, token) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    client[method](request, md, { deadline: Date.now() + 5000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

let own;
let mesh = runningMesh();
if (mesh)
  console.log(
    `Using the mesh started by \`npm start\` (auth ${mesh.auth}, echo ${mesh.echo}, echo-b ${mesh.echoB}).`,
  );
else {
  console.log('No running mesh found: starting one for this demo (it stops at the end)...');
  own = await startMesh({ log: (m) => console.log(`   [mesh] ${m}`) });
  mesh = own;
}

const auth = new (authGrpc().authmesh.v1.AuthService)(mesh.auth, insecure);
const echo = new (echoGrpc().echo.v1.Echo)(mesh.echo, insecure);
const { username, password } = mesh.creds;
let exitCode = 0;
try {
  await show('Ping echo without a token: the method is public (rule in echo.proto)', () =>
    unary(echo, 'Ping', { message: 'hi' }),
  );

  await show('WhoAmI without a token: every other method needs one', () => unary(echo, 'WhoAmI', {}));

  let access = '';
  let refresh = '';
  const login = await show(
    `Log in as "${username}" (password grant, audience echo): claims of the access token`,
    async () => {
      const res = await unary(auth, 'IssueToken', { password: { username, password }, audience: ['echo'] });
      ({ access_token: access, refresh_token: refresh } = res);
      return {
        claims: claimsOf(res.access_token),
        expires_in: res.expires_in,
        refresh_expires_in: res.refresh_expires_in,
        scope: res.scope,
      };
    },
  );
  if (login.error) throw new Error('login failed; is the mesh healthy?');

  await show(
    'WhoAmI with the token: echo verified it locally (cached JWKS, no call to auth) and shows the principal',
    () => unary(echo, 'WhoAmI', {}, access),
  );

  await show('Admin: the token carries scope echo:admin, which the method requires', () =>
    unary(echo, 'Admin', {}, access),
  );

  await show('Admin with a token narrowed to scope echo:read: PERMISSION_DENIED', async () => {
    const narrow = await unary(auth, 'IssueToken', {
      password: { username, password },
      audience: ['echo'],
      scope: ['echo:read'],
    });
    return unary(echo, 'Admin', {}, narrow.access_token);
  });

  await show('The echo token sent to echo-b: wrong audience, UNAUTHENTICATED', () =>
    unary(new (echoGrpc().echo.v1.Echo)(mesh.echoB, insecure), 'WhoAmI', {}, access),
  );

  await show(
    `Relay: echo exchanges your token for audience echo-b (ExchangeToken) and calls echo-b's WhoAmI.
   echo-b sees the same sub, aud echo-b, and echo's client in the act chain`,
    () => unary(echo, 'Relay', { target: mesh.echoB, audience: 'echo-b' }, access),
  );

  await show(
    'Refresh: a new access token AND a new refresh token; the old refresh token is now dead',
    async () => {
      const res = await unary(auth, 'Refresh', { refresh_token: refresh });
      const before = claimsOf(access);
      access = res.access_token;
      refresh = res.refresh_token;
      const after = claimsOf(access);
      return { old_jti: before.jti, new_jti: after.jti, same_session: before.sid === after.sid };
    },
  );

  await show(
    `Revoke the session (logout) by presenting its refresh token, with no caller token (RFC 7009: holding
   the token is the proof): the auth service signs the revocation and publishes it on NATS`,
    () => unary(auth, 'Revoke', { token: refresh, reason: 'demo logout' }),
  );

  await show(
    "WhoAmI with the revoked session's token: rejected by echo as soon as the event arrives",
    async () => {
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) {
        try {
          await unary(echo, 'WhoAmI', {}, access);
        } catch (err) {
          if (err.code === grpc.status.UNAUTHENTICATED) {
            return `→ UNAUTHENTICATED (${err.details}) after ${(performance.now() - t0).toFixed(1)} ms and ${i + 1} call(s)`;
          }
          throw err;
        }
        await sleep(10);
      }
      exitCode = 1;
      return '→ still accepted after 2 s: the revocation did not arrive (is NATS up?)';
    },
  );

  await show('Refresh with the revoked session: refused too', () =>
    unary(auth, 'Refresh', { refresh_token: refresh }),
  );
} catch (err) {
  console.error(`\ndemo failed: ${err.message}`);
  exitCode = 1;
} finally {
  auth.close();
  echo.close();
  if (own) await own.stop();
}
console.log(exitCode === 0 ? '\nThat was authmesh. See README.md for how to protect your own service.' : '');
process.exit(exitCode);
