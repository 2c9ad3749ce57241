// Original file: packages/client/proto/authmesh/v1/auth.proto

import type { Long } from '@grpc/proto-loader';

export interface TokenResponse {
  'access_token'?: (string);
  'token_type'?: (string);
  'expires_in'?: (number | string | Long);
  'refresh_token'?: (string);
  'refresh_expires_in'?: (number | string | Long);
  'scope'?: (string);
}

export interface TokenResponse__Output {
  'access_token': (string);
  'token_type': (string);
  'expires_in': (number);
  'refresh_token': (string);
  'refresh_expires_in': (number);
  'scope': (string);
}
