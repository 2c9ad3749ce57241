// Original file: packages/client/proto/authmesh/v1/auth.proto

import type { MeshInstance as _authmesh_v1_MeshInstance, MeshInstance__Output as _authmesh_v1_MeshInstance__Output } from '../../authmesh/v1/MeshInstance.js';
import type { Long } from '@grpc/proto-loader';

export interface GetMeshStatusResponse {
  'instances'?: (_authmesh_v1_MeshInstance)[];
  'stream_last_sequence'?: (number | string | Long);
}

export interface GetMeshStatusResponse__Output {
  'instances': (_authmesh_v1_MeshInstance__Output)[];
  'stream_last_sequence': (number);
}
