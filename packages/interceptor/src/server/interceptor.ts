import * as grpc from '@grpc/grpc-js';
import type { Principal } from '../claims.js';
import { AuthError, isAuthError, type AuthErrorCode } from '../errors.js';
import { toGrpcStatus, type StatusLogger } from '../status.js';
import type { Authenticator } from '../verify/authenticator.js';
import type { RejectionInfo } from './options.js';
import { checkCertificateBinding } from './cert-binding.js';
import { bindPrincipal } from './principal.js';
import { AUTHENTICATED, checkRule, type RuleTable } from './rules.js';

/** A streaming call in flight, so a revocation can end it. */
export interface OpenStream {
  readonly principal: Principal;
  end(code: AuthErrorCode): void;
}

/** What the interceptor needs from createServerAuth. */
export interface InterceptorContext {
  readonly rules: RuleTable;
  readonly auth: Authenticator;
  /** Throws ERR_NOT_READY / ERR_REVOCATIONS_STALE when calls that need a token must be refused. */
  readonly gate: () => void;
  readonly maxTokenBytes: number;
  readonly clockToleranceSec: number;
  readonly openStreams: Set<OpenStream>;
  readonly onRejected: ((info: RejectionInfo) => void) | undefined;
  readonly logger: StatusLogger | undefined;
}

const BEARER = 'bearer ';
const BEARER_AS_SENT = 'Bearer ';
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The bearer token of the call, undefined when none was sent; throws when the header is unusable. */
export function bearerToken(metadata: grpc.Metadata, maxTokenBytes: number): string | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) return undefined;
  // Exactly one value: with two, which one a proxy or handler looks at is anyone's guess.
  if (values.length !== 1) throw new AuthError('ERR_TOKEN_MALFORMED', 'more than one authorization value');
  const value = values[0];
  if (typeof value !== 'string') throw new AuthError('ERR_TOKEN_MALFORMED', 'binary authorization value');
  if (value.length > maxTokenBytes + 64)
    throw new AuthError('ERR_TOKEN_MALFORMED', 'authorization value too large');
  // RFC 6750 §2.1: "Bearer" 1*SP b64token; the scheme name is case-insensitive (RFC 9110 §11.1).
  // `Bearer ` as every client writes it is checked without allocating a lower-cased copy.
  if (
    value.length <= BEARER.length ||
    (!value.startsWith(BEARER_AS_SENT) && value.slice(0, BEARER.length).toLowerCase() !== BEARER)
  ) {
    throw new AuthError('ERR_TOKEN_MALFORMED', 'not a bearer token');
  }
  const token = value.slice(BEARER.length).trim();
  if (token === '') throw new AuthError('ERR_TOKEN_MALFORMED', 'empty bearer token');
  return token;
}

/** Client-sent `x-authmesh-*` headers are dropped: downstream code must never trust them. */
function stripAuthmeshHeaders(metadata: grpc.Metadata): void {
  // getMap() copies every header into a new object on each call; grpc-js keeps them in a Map
  // (`internalRepr`, protected in its typings) whose keys we can walk without copying.
  const repr = (metadata as unknown as { internalRepr?: unknown }).internalRepr;
  const keys = repr instanceof Map ? (repr.keys() as Iterable<string>) : Object.keys(metadata.getMap());
  let found: string[] | undefined;
  for (const key of keys) if (key.startsWith('x-authmesh-')) (found ??= []).push(key);
  if (found !== undefined) for (const key of found) metadata.remove(key);
}

/**
 * The grpc-js server interceptor. It decides in `onReceiveMetadata`: rejected calls get
 * `call.sendStatus` and never reach `next` (grpc-js buffers messages and half-close meanwhile);
 * accepted calls go on with the SAME Metadata object, under which the principal is recorded.
 * It never throws: grpc-js does not catch errors thrown by interceptors.
 */
export function createInterceptor(ctx: InterceptorContext): grpc.ServerInterceptor {
  return (method, call) => {
    const path = method.path;
    const rule = ctx.rules.get(path) ?? AUTHENTICATED;
    const streaming = method.requestStream || method.responseStream;
    /** True once the call is over for us (we sent a status, or it was cancelled): later sends are dropped. */
    let endedByUs = false;
    let stream: OpenStream | undefined;
    let timer: NodeJS.Timeout | undefined;

    function cleanup(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (stream !== undefined) ctx.openStreams.delete(stream);
      stream = undefined;
    }

    function reject(err: unknown): void {
      if (endedByUs) return;
      endedByUs = true;
      cleanup();
      const status = toGrpcStatus(err, ctx.logger);
      try {
        ctx.onRejected?.({ code: isAuthError(err) ? err.code : 'ERR_UNEXPECTED', path });
      } catch {
        // A metrics hook must not break the call.
      }
      call.sendStatus({ code: status.code, details: status.details });
    }

    function track(principal: Principal): void {
      const entry: OpenStream = { principal, end: (code) => reject(new AuthError(code, 'stream ended')) };
      stream = entry;
      ctx.openStreams.add(entry);
      // One timer per streaming call: the token's validity ends the stream (RFC 7519 §4.1.4).
      const delay = (principal.exp + ctx.clockToleranceSec) * 1000 - Date.now();
      timer = setTimeout(() => entry.end('ERR_TOKEN_EXPIRED'), Math.min(Math.max(delay, 0), MAX_TIMER_MS));
      timer.unref();
    }

    function accept(
      metadata: grpc.Metadata,
      principal: Principal | undefined,
      next: (m: grpc.Metadata) => void,
    ): void {
      if (endedByUs) return; // cancelled while verifying
      // Throws ERR_CERT_BINDING for a certificate-bound token on the wrong connection (callers catch).
      if (principal !== undefined) checkCertificateBinding(principal, call); // no per-call closure
      stripAuthmeshHeaders(metadata);
      if (principal !== undefined) {
        bindPrincipal(metadata, principal);
        if (streaming) track(principal);
      }
      next(metadata);
    }

    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, next) {
            try {
              const token = bearerToken(metadata, ctx.maxTokenBytes);
              if (token === undefined) {
                if (!rule.public) throw new AuthError('ERR_TOKEN_MISSING', 'missing bearer token');
                accept(metadata, undefined, next);
                return;
              }
              ctx.gate();
              const warm = ctx.auth.cached(token);
              if (warm !== undefined) {
                checkRule(rule, warm);
                accept(metadata, warm, next);
                return;
              }
              ctx.auth.authenticate(token).then((principal) => {
                // Same guard as the synchronous path: nothing may escape as an unhandled rejection.
                try {
                  checkRule(rule, principal);
                  accept(metadata, principal, next);
                } catch (err) {
                  reject(err);
                }
              }, reject);
            } catch (err) {
              reject(err);
            }
          },
          onCancel() {
            endedByUs = true;
            cleanup();
          },
        });
      },
      sendMessage(message, next) {
        if (!endedByUs) next(message);
      },
      sendStatus(status, next) {
        cleanup();
        if (!endedByUs) next(status);
      },
    });
  };
}
