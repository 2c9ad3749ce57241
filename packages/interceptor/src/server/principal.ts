import type * as grpc from '@grpc/grpc-js';
import type { Principal } from '../claims.js';
import { AuthError } from '../errors.js';

/** Any grpc-js server call: unary, client stream, server stream or bidi (all carry `metadata`). */
export type AnyServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>
  | { readonly metadata: grpc.Metadata };

/*
 * Keyed by the very Metadata object the interceptor passed on: a client can send any header it
 * likes, but it cannot make its metadata be this object, so the principal cannot be spoofed.
 */
const principals = new WeakMap<grpc.Metadata, Principal>();

/** Internal: the interceptor records the verified principal of a call. */
export function bindPrincipal(metadata: grpc.Metadata, principal: Principal): void {
  principals.set(metadata, principal);
}

/**
 * The verified caller of `call`, or undefined on a public method called without a token.
 *
 * @example const who = findPrincipal(call)?.sub ?? 'anonymous';
 */
export function findPrincipal(call: AnyServerCall): Principal | undefined {
  return principals.get(call.metadata);
}

/**
 * The verified caller of `call`. Throws an AuthError (ERR_TOKEN_MISSING) when the call went through
 * no authmesh interceptor or was public and sent no token.
 *
 * @example const { sub, scopes } = getPrincipal(call);
 */
export function getPrincipal(call: AnyServerCall): Principal {
  const principal = principals.get(call.metadata);
  if (principal === undefined)
    throw new AuthError('ERR_TOKEN_MISSING', 'no authenticated principal on this call');
  return principal;
}
