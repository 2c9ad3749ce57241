import type { ServerUnaryCall } from '@grpc/grpc-js';
import { findPrincipal } from '@authmesh/interceptor';
import type { GetMeshStatusRequest__Output, GetMeshStatusResponse } from '@authmesh/interceptor/proto';
import { REVOCATION_STREAM } from '../nats.js';
import { hasAdminAuthority } from './authority.js';
import type { RpcDeps } from './deps.js';
import { permissionDenied, unauthenticated } from './errors.js';

/**
 * `GetMeshStatus` (admin; the guard has already required a caller token with the auth service's own
 * audience): the live instances this replica has heard, and the stream's last sequence to compare with.
 */
export function getMeshStatus(deps: RpcDeps) {
  return async (
    _request: GetMeshStatusRequest__Output,
    call: ServerUnaryCall<GetMeshStatusRequest__Output, GetMeshStatusResponse>,
  ): Promise<GetMeshStatusResponse> => {
    const caller = findPrincipal(call);
    if (!caller) throw unauthenticated('authentication required');
    if (!hasAdminAuthority(caller)) throw permissionDenied('scope authmesh:admin required');
    const info = await deps.ctx.jsm.streams.info(REVOCATION_STREAM);
    return { instances: deps.mesh.instances(), stream_last_sequence: info.state.last_seq };
  };
}
