import { sign } from 'node:crypto';
import {
  MAX_REVOCATION_EVENT_BYTES,
  REVOCATION_EVENT_TYP,
  signRevocationEvent,
  type RevocationBatchClaims,
  type RevocationEventClaims,
  type RevocationSigningKey,
} from '@authmesh/interceptor';

/**
 * Signs a revocation event: the same compact JWS as `signRevocationEvent` (same header, payload and,
 * Ed25519 being deterministic, same signature), with the signature computed on libuv's thread pool.
 * jose's `CompactSign` cost ~4× node:crypto's one-shot sign on the event loop; at thousands of
 * revocations a second that was the auth service's largest cost per Revoke. ES256 events keep the
 * interceptor's signer, which also normalizes the signature to low-S (verifiers accept only that).
 * The caller validates the claims (RevocationPublisher.revoke).
 */
export function signEvent(
  claims: RevocationEventClaims | RevocationBatchClaims,
  key: RevocationSigningKey,
  issuer: string,
): Promise<string> {
  if (key.alg !== 'EdDSA') return signRevocationEvent(claims, key, issuer);
  const header = b64(JSON.stringify({ alg: key.alg, kid: key.kid, typ: REVOCATION_EVENT_TYP }));
  const input = `${header}.${b64(JSON.stringify({ ...claims, iss: issuer }))}`;
  // An Ed25519 signature is 86 base64url characters. Interceptors drop anything larger than the bound:
  // refuse to publish (and acknowledge) what no one would apply.
  if (input.length + 87 > MAX_REVOCATION_EVENT_BYTES)
    return Promise.reject(
      new RangeError(`the signed event would be over ${MAX_REVOCATION_EVENT_BYTES} bytes: split the batch`),
    );
  return new Promise((resolve, reject) =>
    sign(null, Buffer.from(input, 'latin1'), key.privateKey, (err, sig) =>
      err ? reject(err) : resolve(`${input}.${sig.toString('base64url')}`),
    ),
  );
}

function b64(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}
