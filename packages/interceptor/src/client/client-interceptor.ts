import * as grpc from '@grpc/grpc-js';
import { isTokenSourceError } from './errors.js';
import type { TokenSource } from './token-source.js';

/** The status a call ends with when no token could be obtained (never a throw). */
function statusForSourceError(err: unknown): grpc.StatusObject {
  const unavailable = !isTokenSourceError(err) || err.code !== 'ERR_TOKEN_SOURCE_REJECTED';
  return {
    code: unavailable ? grpc.status.UNAVAILABLE : grpc.status.UNAUTHENTICATED,
    // The source's message is built to be safe (no token, secret or password).
    details: isTokenSourceError(err) ? err.message : 'authmesh: could not obtain an access token',
    metadata: new grpc.Metadata(),
  };
}

/**
 * A grpc-js client interceptor that sends `authorization: Bearer <token>` (RFC 6750 §2.1) from
 * `source` on every call, unary and streaming. When no token can be had, the call ends with
 * UNAVAILABLE (auth service down) or UNAUTHENTICATED (credentials refused) without reaching the
 * server. When the server answers UNAUTHENTICATED, the token is dropped from the source so the
 * next call fetches a fresh one (it may have been revoked, or signed by a key since removed).
 *
 * @example
 * new Echo(target, grpc.credentials.createInsecure(), { interceptors: [authInterceptor(source)] });
 */
export function authInterceptor(source: TokenSource): grpc.Interceptor {
  if (typeof source?.getToken !== 'function')
    throw new TypeError('authInterceptor: source must be a TokenSource');
  return (options, nextCall) => {
    let cancelled = false;
    let started = false;
    let pending: grpc.InterceptingListener | undefined;
    return new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        pending = listener;
        source.getToken().then(
          (token) => {
            if (cancelled) return;
            started = true;
            metadata.set('authorization', `Bearer ${token}`);
            next(metadata, {
              onReceiveStatus(status, nextStatus) {
                if (status.code === grpc.status.UNAUTHENTICATED) source.invalidate?.(token);
                nextStatus(status);
              },
            });
          },
          (err: unknown) => {
            if (cancelled) return;
            cancelled = true;
            listener.onReceiveStatus(statusForSourceError(err));
          },
        );
      },
      cancel(next) {
        // A call cancelled while waiting for its token never reached the channel: end it here.
        if (!started && !cancelled && pending) {
          pending.onReceiveStatus({
            code: grpc.status.CANCELLED,
            details: 'Cancelled on client',
            metadata: new grpc.Metadata(),
          });
        }
        cancelled = true;
        next();
      },
    });
  };
}

/**
 * The same as {@link authInterceptor} as grpc-js call credentials: per call
 * (`client.WhoAmI(req, { credentials: callCredentials(source) }, cb)`, any channel), or for a whole
 * TLS channel with `grpc.credentials.combineChannelCredentials(tls, callCredentials(source))` (grpc-js
 * refuses to compose call credentials with an insecure channel). It does not drop rejected tokens.
 */
export function callCredentials(source: TokenSource): grpc.CallCredentials {
  if (typeof source?.getToken !== 'function')
    throw new TypeError('callCredentials: source must be a TokenSource');
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    source.getToken().then(
      (token) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token}`);
        callback(null, md);
      },
      (err: unknown) => {
        const s = statusForSourceError(err);
        callback(Object.assign(new Error(s.details), { code: s.code }));
      },
    );
  });
}
