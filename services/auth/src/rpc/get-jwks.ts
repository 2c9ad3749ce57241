import type { GetJwksResponse } from '@authmesh/interceptor/proto';
import type { RpcDeps } from './deps.js';

/**
 * `GetJwks`: the public JWKS, and the withdrawn keys that verify revocation events only, each
 * serialized once per key-ring change by the key manager.
 */
export function getJwks(deps: RpcDeps) {
  return async (): Promise<GetJwksResponse> => ({
    keys_json: deps.ctx.keys.jwksJson(),
    event_keys_json: deps.ctx.keys.eventKeysJson(),
  });
}
