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
 * The principal is a property of the very Metadata object the interceptor passed on, under a
 * module-private symbol. Headers live in the Metadata's own map and can only ever be string keys
 * there, and no other code holds this symbol, so a client cannot spoof it. (A WeakMap did the same
 * but cost a hash insertion and ephemeron GC work on every call.)
 */
const PRINCIPAL = Symbol('authmesh.principal');

interface BoundMetadata {
  [PRINCIPAL]?: Principal;
}

/** Internal: the interceptor records the verified principal of a call. */
export function bindPrincipal(metadata: grpc.Metadata, principal: Principal): void {
  (metadata as BoundMetadata)[PRINCIPAL] = principal;
}

function principalOf(metadata: grpc.Metadata): Principal | undefined {
  return (metadata as BoundMetadata)[PRINCIPAL];
}

/**
 * The verified caller of `call`, or undefined on a public method called without a token.
 *
 * @example const who = findPrincipal(call)?.sub ?? 'anonymous';
 */
export function findPrincipal(call: AnyServerCall): Principal | undefined {
  return principalOf(call.metadata);
}

/**
 * The verified caller of `call`. Throws an AuthError (ERR_TOKEN_MISSING) when the call went through
 * no authmesh interceptor or was public and sent no token.
 *
 * @example const { sub, scopes } = getPrincipal(call);
 */
export function getPrincipal(call: AnyServerCall): Principal {
  const principal = principalOf(call.metadata);
  if (principal === undefined)
    throw new AuthError('ERR_TOKEN_MISSING', 'no authenticated principal on this call');
  return principal;
}
