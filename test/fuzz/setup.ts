// In-process fixtures for the fuzz suites: a verifier and an authenticator (with its cache) over one
// Ed25519 key, built from the interceptor's own modules, and the run count from FUZZ_RUNS.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createVerifier, type Verifier } from '../../packages/interceptor/src/verify/verifier.js';
import {
  createAuthenticator,
  type Authenticator,
} from '../../packages/interceptor/src/verify/authenticator.js';
import type { KeyStore, VerificationKey } from '@authmesh/interceptor';

/** Cases per property: FUZZ_RUNS (CI default 3000; the on-demand run uses 1000000). */
export const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 3000) || 3000);
/** A per-test timeout that grows with RUNS (~0.2 ms per case is typical, 1 ms is the bound). */
export const timeoutFor = (runs: number, perCaseMs = 1): number => 20_000 + runs * perCaseMs;

export const ISSUER = 'https://issuer.fuzz.test';
export const KID = 'fuzz-key-1';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key: VerificationKey = { kid: KID, alg: 'EdDSA', key: publicKey };

/** A fixed key store: one key, never refreshed. */
export const keyStore: KeyStore = {
  get: (kid) => (kid === KID ? key : undefined),
  resolve: async (kid) => (kid === KID ? key : undefined),
  refresh: async () => undefined,
  remove: () => undefined,
  epoch: 1,
  ready: async () => undefined,
  close: () => undefined,
};

/** The verifier exactly as createServerAuth configures it by default. */
export const verify: Verifier = createVerifier({
  keys: keyStore,
  issuer: ISSUER,
  audiences: ['echo'],
  algorithms: ['EdDSA', 'ES256'],
  clockToleranceSec: 5,
  maxTokenBytes: 8192,
});

/** An authenticator with a cache in front of the verifier and no revocations. */
export const authenticator: Authenticator = createAuthenticator(
  verify,
  keyStore,
  { isRevoked: () => false, epoch: 0 },
  1000,
);

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** Signs any header/payload (objects or raw JSON text) with the trusted key. */
export function signRaw(header: object | string, payload: object | string): string {
  const input = `${b64(typeof header === 'string' ? header : JSON.stringify(header))}.${b64(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  return `${input}.${b64(sign(null, Buffer.from(input), privateKey))}`;
}

/** Genuine claims for audience echo. */
export function goodClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: 'alice',
    aud: 'echo',
    exp: now + 600,
    iat: now,
    nbf: now,
    jti: randomBytes(16).toString('base64url'),
    client_id: 'cli',
    scope: 'echo:read',
    roles: ['dev'],
    sid: 's1',
  };
}
export const goodHeader = { alg: 'EdDSA', kid: KID, typ: 'at+jwt' };

/** Resolves to 'accepted' or the rejection (never throws itself). */
export async function outcome(p: () => Promise<unknown>): Promise<'accepted' | unknown> {
  try {
    await p();
    return 'accepted';
  } catch (err) {
    return err;
  }
}
