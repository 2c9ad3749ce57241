// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface GetJwksResponse {
  'keys_json'?: (string);
  'event_keys_json'?: (string);
}

export interface GetJwksResponse__Output {
  'keys_json': (string);
  'event_keys_json': (string);
}
