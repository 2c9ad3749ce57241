// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface RefreshRequest {
  'refresh_token'?: (string);
  'scope'?: (string)[];
}

export interface RefreshRequest__Output {
  'refresh_token': (string);
  'scope': (string)[];
}
