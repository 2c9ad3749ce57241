import { parseArgs } from 'node:util';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { UsageError, type Command, type CommandIo } from './command.js';
import { readSecret } from './grant-args.js';
import { readPublicRing } from './public-ring.js';
import { MAX_TOKEN_BYTES } from '../rpc/validate.js';

const USAGE = `usage: authmesh token inspect TOKEN|- [--jwks-uri URL] [--issuer ISS] [--audience AUD]

Decodes an access token (header and claims; never the signature) and verifies it: signature against the
JWKS at --jwks-uri, or else against the key ring in NATS (NATS_URL); typ at+jwt, alg EdDSA|ES256, exp/nbf,
and --issuer / --audience when given. "-" reads the token from stdin (keeps it out of shell history).
Prints one JSON document; exits 0 when the token verifies, 1 when it does not.`;

/** `authmesh token inspect TOKEN`: decode + verify, printing whether it verifies and why not. */
export const tokenInspect: Command = {
  name: 'token inspect',
  summary: 'decode an access token and verify it against the JWKS',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'jwks-uri': { type: 'string' }, issuer: { type: 'string' }, audience: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new UsageError('expected one token (or - to read it from stdin)');
    // Tokens grow with scopes, roles and act chains: the same bound as the verifiers (MAX_TOKEN_BYTES).
    const token =
      positionals[0] === '-'
        ? (await readSecret(io.stdin, 'token', MAX_TOKEN_BYTES)).trim()
        : positionals[0]!;

    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
      claims = decodeJwt(token) as Record<string, unknown>;
    } catch {
      // Never echo the input: it may be a real token pasted by mistake.
      throw new UsageError('not a JWS compact token (three base64url parts with JSON header and claims)');
    }

    const jwks = values['jwks-uri'] !== undefined ? remoteJwks(values['jwks-uri']) : await ringJwks(io);
    const verdict = await jwtVerify(token, jwks, {
      algorithms: ['EdDSA', 'ES256'],
      typ: 'at+jwt',
      ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
      ...(values.audience !== undefined ? { audience: values.audience } : {}),
    }).then(
      () => ({ verified: true as const }),
      (err: { code?: string; message?: string }) => ({
        verified: false as const,
        reason: err.code ?? 'ERR_UNKNOWN',
        detail: err.message,
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    io.stdout.write(
      `${JSON.stringify(
        {
          header,
          claims,
          ...verdict,
          ...(exp !== undefined ? { expires_in: exp - now } : {}),
          jwks: values['jwks-uri'] ?? 'nats:AUTHMESH_KEYS',
        },
        null,
        io.json ? undefined : 2,
      )}\n`,
    );
    return verdict.verified ? 0 : 1;
  },
};

function remoteJwks(uri: string): JWTVerifyGetKey {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UsageError(`--jwks-uri: not a URL: ${uri}`);
  }
  return createRemoteJWKSet(url, { timeoutDuration: 5000 });
}

/** The public keys of the ring in NATS: reading them needs no KEK. */
async function ringJwks(io: CommandIo): Promise<JWTVerifyGetKey> {
  return createLocalJWKSet({ keys: (await readPublicRing(io)).keys.map((k) => k.publicJwk) });
}
