import type * as grpc from '@grpc/grpc-js';
import type { Principal } from '../claims.js';

/**
 * What `createServerAuth(options)` returns (implemented in ./server-auth.ts): the server interceptor
 * plus the lifecycle of what feeds it (JWKS, revocation feed).
 */
export interface ServerAuth {
  /** Put it first in `new grpc.Server({ interceptors: [auth.interceptor, ...] })`. */
  readonly interceptor: grpc.ServerInterceptor;
  /**
   * Full verification of a token outside a call (signature, claims, revocation), as the interceptor
   * does it; rejects with an AuthError. `anyAudience` skips the audience check (the issuer's own use).
   */
  verify(token: string, options?: { anyAudience?: boolean }): Promise<Principal>;
  /** Resolves once keys are loaded and revocations replayed. */
  ready(): Promise<void>;
  isReady(): boolean;
  close(): Promise<void>;
}
