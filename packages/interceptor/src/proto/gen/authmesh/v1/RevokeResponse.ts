// Original file: packages/interceptor/proto/authmesh/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface RevokeResponse {
  'kind'?: (string);
  'value'?: (string);
  'at'?: (number | string | Long);
  'sequence'?: (number | string | Long);
}

export interface RevokeResponse__Output {
  'kind': (string);
  'value': (string);
  'at': (number);
  'sequence': (number);
}
