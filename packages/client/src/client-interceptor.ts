import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
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

/** Options of {@link authInterceptor}. */
export interface AuthInterceptorOptions {
  /**
   * The methods a call may be retried on, once, with a fresh token when the server refused its token
   * as revoked or signed by a withdrawn key (see {@link RETRYABLE_DETAILS}): method paths
   * (`/billing.v1.Billing/GetInvoice`), or a proto-loader package definition whose methods declare
   * `option idempotency_level = NO_SIDE_EFFECTS;` or `IDEMPOTENT`. Default: none (no retry).
   */
  retryable?: PackageDefinition | readonly string[];
  /**
   * Retry every method, idempotent or not. A call the authmesh interceptor refused never reached the
   * handler, but a handler could answer the same status after acting. Default false.
   */
  retryNonIdempotent?: boolean;
}

/**
 * The status details (fixed strings of the server interceptor, see status.ts) after which a fresh token
 * may succeed: the token was revoked (a logout of one token, a key withdrawn) or its key is gone. Any
 * other refusal (expired, wrong audience, missing scope…) would fail again and is never retried.
 */
export const RETRYABLE_DETAILS: readonly string[] = Object.freeze(['token revoked', 'unknown signing key']);

const RETRYABLE_LEVELS = new Set(['NO_SIDE_EFFECTS', 'IDEMPOTENT', 1, 2]);

function retryablePaths(options: AuthInterceptorOptions): ((path: string) => boolean) | undefined {
  if (options.retryNonIdempotent === true) return () => true;
  const r = options.retryable;
  if (r === undefined) return undefined;
  if (Array.isArray(r)) {
    if (!r.every((p) => typeof p === 'string' && p.startsWith('/')))
      throw new TypeError(
        'authInterceptor: options.retryable must list method paths like "/pkg.Service/Method"',
      );
    const paths = new Set<string>(r);
    return (path) => paths.has(path);
  }
  if (typeof r !== 'object' || r === null)
    throw new TypeError('authInterceptor: options.retryable must be method paths or a package definition');
  const paths = new Set<string>();
  for (const entry of Object.values(r as PackageDefinition)) {
    if (typeof entry !== 'object' || entry === null || 'format' in entry) continue;
    for (const m of Object.values(
      entry as Record<string, { path?: string; options?: Record<string, unknown> }>,
    )) {
      const level = m?.options?.idempotency_level ?? m?.options?.idempotencyLevel;
      if (typeof m?.path === 'string' && RETRYABLE_LEVELS.has(level as string)) paths.add(m.path);
    }
  }
  return (path) => paths.has(path);
}

/**
 * A grpc-js client interceptor that sends `authorization: Bearer <token>` (RFC 6750 §2.1) from
 * `source` on every call, unary and streaming. When no token can be had, the call ends with
 * UNAVAILABLE (auth service down) or UNAUTHENTICATED (credentials refused) without reaching the
 * server. When the server answers UNAUTHENTICATED, the token is dropped from the source so the
 * next call fetches a fresh one (it may have been revoked, or signed by a key since removed).
 *
 * With `options.retryable`, a call refused because its token was revoked or its key withdrawn is
 * sent again once, with a fresh token, before your code sees anything: only for the listed (safe to
 * repeat) methods, only when the call sent one message and got none back (unary, server streaming),
 * never for any other failure. If the retry fails too, that status is what your code gets; its
 * details say why (`token revoked`, `unknown signing key`).
 *
 * @example
 * new Echo(target, grpc.credentials.createInsecure(), { interceptors: [authInterceptor(source)] });
 */
export function authInterceptor(source: TokenSource, options: AuthInterceptorOptions = {}): grpc.Interceptor {
  if (typeof source?.getToken !== 'function')
    throw new TypeError('authInterceptor: source must be a TokenSource');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('authInterceptor: options must be an object');
  const mayRetry = retryablePaths(options);
  return (callOptions, nextCall) => {
    const path = callOptions.method_definition.path;
    const retryable =
      mayRetry !== undefined && !callOptions.method_definition.requestStream && mayRetry(path);
    let cancelled = false;
    let started = false;
    let pending: grpc.InterceptingListener | undefined;
    // The one request message, kept for a retry, and the retry's own call.
    let sent: unknown;
    let retryCall: ReturnType<grpc.NextCall> | undefined;
    return new grpc.InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        pending = listener;
        source.getToken().then(
          (token) => {
            if (cancelled) return;
            started = true;
            metadata.set('authorization', `Bearer ${token}`);
            if (!retryable) {
              next(metadata, {
                onReceiveStatus(status, nextStatus) {
                  if (status.code === grpc.status.UNAUTHENTICATED) source.invalidate?.(token);
                  nextStatus(status);
                },
              });
              return;
            }
            next(metadata, retryingListener(token, metadata));
          },
          (err: unknown) => {
            if (cancelled) return;
            cancelled = true;
            listener.onReceiveStatus(statusForSourceError(err));
          },
        );
      },
      sendMessage(message, next) {
        sent = message;
        next(message);
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
        retryCall?.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
        next();
      },
    });

    /**
     * Passes everything through (grpc-js waits for each step to be passed on before the next), and
     * starts the retry instead of passing on a retryable refusal. grpc-js's unary wrapper reports "no
     * message" as a null message before the status: that is not a response, and the retry's real
     * message may follow it.
     */
    function retryingListener(token: string, metadata: grpc.Metadata): grpc.Listener {
      let receivedMessage = false;
      let sentHeaders = false;
      return {
        onReceiveMetadata(md, next) {
          sentHeaders = true;
          next(md);
        },
        onReceiveMessage(message, next) {
          if (message !== null) receivedMessage = true;
          next(message);
        },
        onReceiveStatus(status, next) {
          if (status.code !== grpc.status.UNAUTHENTICATED) return next(status);
          source.invalidate?.(token);
          if (receivedMessage || cancelled || !RETRYABLE_DETAILS.includes(status.details))
            return next(status);
          source.getToken().then(
            (fresh) => {
              if (cancelled) return;
              if (fresh === token) return next(status); // the source has nothing newer: no point
              const md = metadata.clone();
              md.set('authorization', `Bearer ${fresh}`);
              retryCall = nextCall(callOptions);
              // The retry's answer goes straight to the caller; a second refusal drops that token too.
              retryCall.start(md, {
                onReceiveMetadata: (m: grpc.Metadata) =>
                  void (sentHeaders || pending!.onReceiveMetadata?.(m)),
                onReceiveMessage: (m: unknown) => pending!.onReceiveMessage?.(m),
                onReceiveStatus: (s: grpc.StatusObject) => {
                  if (s.code === grpc.status.UNAUTHENTICATED) source.invalidate?.(fresh);
                  next(s);
                },
              });
              retryCall.sendMessageWithContext({}, sent);
              retryCall.halfClose();
              retryCall.startRead();
            },
            () => next(status),
          );
        },
      };
    }
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
