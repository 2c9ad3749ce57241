export {
  loadConfig,
  ConfigError,
  parseAddress,
  formatAddress,
  readNatsServers,
  type AuthConfig,
  type AuthEnv,
  type ListenAddress,
} from './config.js';
export type { AuthServiceContext } from './context.types.js';
export { startAuthService, type AuthService, type StartOptions } from './server.js';
export {
  BUCKETS,
  REVOCATION_STREAM,
  KEYS_ROTATED_SUBJECT,
  connectNats,
  openBucket,
  openBuckets,
  ensureRevocationStream,
  type AuthBuckets,
} from './nats.js';
export { Kek, KekError } from './keys/kek.js';
export { NatsKeyManager, RING_KEY, type KeyManagerOptions } from './keys/key-manager.js';
export type { KeyManager, SigningAlg, SigningKey } from './keys/key-manager.types.js';
export { createTokenMinter, type MinterOptions } from './tokens/minter.js';
export type { MintRequest, MintedToken, TokenMinter } from './tokens/minter.types.js';
export { recordIssuer, resolveIssuer } from './issuer.js';
export { main as cliMain } from './cli/main.js';
