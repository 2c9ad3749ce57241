// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface ExchangeTokenRequest {
  'subject_token'?: (string);
  'audience'?: (string);
  'scope'?: (string)[];
}

export interface ExchangeTokenRequest__Output {
  'subject_token': (string);
  'audience': (string);
  'scope': (string)[];
}
