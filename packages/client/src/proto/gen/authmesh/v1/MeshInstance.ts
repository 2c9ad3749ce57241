// Original file: packages/client/proto/authmesh/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface MeshInstance {
  'instance_id'?: (string);
  'audience'?: (string);
  'applied_sequence'?: (number | string | Long);
  'stale'?: (boolean);
  'last_seen_unix_ms'?: (number | string | Long);
  'version'?: (string);
  'label'?: (string);
  'authenticated'?: (boolean);
  'client_id'?: (string);
}

export interface MeshInstance__Output {
  'instance_id': (string);
  'audience': (string);
  'applied_sequence': (number);
  'stale': (boolean);
  'last_seen_unix_ms': (number);
  'version': (string);
  'label': (string);
  'authenticated': (boolean);
  'client_id': (string);
}
