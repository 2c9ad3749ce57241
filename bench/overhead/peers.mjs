import * as grpc from '@grpc/grpc-js';
import { jwtVerify } from 'jose';
import { createVerifier } from 'fast-jwt';

/**
 * A server interceptor that reads `authorization: Bearer …`, runs `check(token)` (sync or async;
 * throws to reject) and lets the call through or ends it with UNAUTHENTICATED: the shape of the
 * usual hand-written JWT interceptor, used for the peer variants.
 */
export function bearerInterceptor(check) {
  const reject = (call) => call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'unauthenticated' });
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            const h = metadata.get('authorization')[0];
            const token = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
            if (!token) return reject(call);
            let r;
            try {
              r = check(token);
            } catch {
              return reject(call);
            }
            if (r && typeof r.then === 'function')
              r.then(
                () => mdNext(metadata),
                () => reject(call),
              );
            else mdNext(metadata);
          },
        });
      },
    });
}

/** Peer 1: `jose.jwtVerify` on every call (no cache), claims checked as authmesh checks them. */
export function joseInterceptor({ key, issuer, audience }) {
  const opts = { issuer, audience, algorithms: ['EdDSA'], typ: 'at+jwt' };
  return bearerInterceptor((token) => jwtVerify(token, key, opts));
}

/** Peer 2: a `fast-jwt` verifier with its built-in cache (the default cache key hashes the token). */
export function fastJwtInterceptor({ pem, issuer, audience }) {
  const verify = createVerifier({
    key: pem,
    algorithms: ['EdDSA'],
    allowedIss: issuer,
    allowedAud: audience,
    checkTyp: 'at+jwt',
    cache: true,
  });
  return bearerInterceptor((token) => verify(token));
}
