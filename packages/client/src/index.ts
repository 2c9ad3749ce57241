// `@authmesh/client`: what a gRPC client needs to call authmesh-protected services — token sources,
// the client interceptor, token exchange. Its only dependency is @grpc/proto-loader (and grpc-js, yours):
// no NATS, JWT verification, metrics or server code, so a client-only install stays small.
export { type TokenSource, staticTokenSource } from './token-source.js';
export { clientCredentialsSource, type ClientCredentialsSourceOptions } from './client-credentials-source.js';
export { passwordSource, type PasswordSourceOptions } from './password-source.js';
export {
  authInterceptor,
  callCredentials,
  RETRYABLE_DETAILS,
  type AuthInterceptorOptions,
} from './client-interceptor.js';
export { createTokenExchanger, type TokenExchanger, type TokenExchangerOptions } from './token-exchange.js';
export { TokenSourceError, isTokenSourceError, type TokenSourceErrorCode } from './errors.js';
export type { AuthConnectionOptions } from './auth-client.js';
export type { RefreshTimingOptions } from './cached-token.js';
export { protoDir } from './proto/proto-dir.js';
