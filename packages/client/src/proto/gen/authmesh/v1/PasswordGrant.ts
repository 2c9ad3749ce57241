// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface PasswordGrant {
  'username'?: (string);
  'password'?: (string);
}

export interface PasswordGrant__Output {
  'username': (string);
  'password': (string);
}
