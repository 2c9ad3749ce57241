// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface ClientCredentialsGrant {
  'client_id'?: (string);
  'client_secret'?: (string);
}

export interface ClientCredentialsGrant__Output {
  'client_id': (string);
  'client_secret': (string);
}
