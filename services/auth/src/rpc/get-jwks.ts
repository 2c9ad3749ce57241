import type { GetJwksResponse } from '@authmesh/interceptor/proto';
import type { RpcDeps } from './deps.js';

/** `GetJwks`: the public JWKS, serialized once per key-ring change by the key manager. */
export function getJwks(deps: RpcDeps) {
  return async (): Promise<GetJwksResponse> => ({ keys_json: deps.ctx.keys.jwksJson() });
}
