// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface RevokeRequest {
  'token'?: (string);
  'jti'?: (string);
  'session_id'?: (string);
  'subject'?: (string);
  'key_id'?: (string);
  'all'?: (boolean);
  'reason'?: (string);
  'wait_ms'?: (number);
  'target'?: "token"|"jti"|"session_id"|"subject"|"key_id"|"all";
}

export interface RevokeRequest__Output {
  'token'?: (string);
  'jti'?: (string);
  'session_id'?: (string);
  'subject'?: (string);
  'key_id'?: (string);
  'all'?: (boolean);
  'reason': (string);
  'wait_ms': (number);
  'target'?: "token"|"jti"|"session_id"|"subject"|"key_id"|"all";
}
