import type { ServerUnaryCall } from '@grpc/grpc-js';
import { getPrincipal, MAX_ANNOUNCEMENT_FIELD } from '@authmesh/interceptor';
import type { GetMeshKeyRequest__Output, GetMeshKeyResponse } from '@authmesh/interceptor/proto';
import type { RpcDeps } from './deps.js';
import { permissionDenied } from './errors.js';
import { requireField } from './validate.js';
import { AUTH_SERVICE_MESH_CLIENT } from '../mesh/announcement-keys.js';

/**
 * `GetMeshKey`: the key with which one instance of the calling service MACs its mesh announcements
 * (../mesh/announcement-keys.ts). Only a client acting as itself (a client_credentials token: sub =
 * client_id, no session, no actor; the guard has required the auth service's own audience) that still
 * exists: the key is bound to that client id, so holding one client's credentials never yields a key
 * that attributes announcements to another client. Any instance id may be asked for: a key for someone
 * else's id only makes announcements attributed to the asking client, a separate instance.
 */
export function getMeshKey(deps: RpcDeps) {
  return async (
    request: GetMeshKeyRequest__Output,
    call: ServerUnaryCall<GetMeshKeyRequest__Output, GetMeshKeyResponse>,
  ): Promise<GetMeshKeyResponse> => {
    const caller = getPrincipal(call); // the method is not public: the guard verified a caller
    if (caller.sid !== undefined || caller.sub !== caller.clientId || caller.act !== undefined) {
      throw permissionDenied('a mesh key requires a client token');
    }
    const instanceId = requireField(request.instance_id, 'instance_id', MAX_ANNOUNCEMENT_FIELD);
    // Its announcements would be checked as the auth service's own: a key for it would never verify.
    if (caller.clientId === AUTH_SERVICE_MESH_CLIENT)
      throw permissionDenied(`no mesh key for client ${AUTH_SERVICE_MESH_CLIENT}`);
    if (!(await deps.clients.get(caller.clientId)))
      throw permissionDenied('a mesh key requires a client token');
    return { key: deps.meshKeys.keyFor(caller.clientId, instanceId), client_id: caller.clientId };
  };
}
