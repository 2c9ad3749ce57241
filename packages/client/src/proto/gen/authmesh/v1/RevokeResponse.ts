// Original file: packages/client/proto/authmesh/v1/auth.proto

import type { MeshInstance as _authmesh_v1_MeshInstance, MeshInstance__Output as _authmesh_v1_MeshInstance__Output } from '../../authmesh/v1/MeshInstance.js';
import type { Long } from '@grpc/proto-loader';

export interface RevokeResponse {
  'kind'?: (string);
  'value'?: (string);
  'at'?: (number | string | Long);
  'sequence'?: (number | string | Long);
  'applied'?: (_authmesh_v1_MeshInstance)[];
  'pending'?: (_authmesh_v1_MeshInstance)[];
}

export interface RevokeResponse__Output {
  'kind': (string);
  'value': (string);
  'at': (number);
  'sequence': (number);
  'applied': (_authmesh_v1_MeshInstance__Output)[];
  'pending': (_authmesh_v1_MeshInstance__Output)[];
}
