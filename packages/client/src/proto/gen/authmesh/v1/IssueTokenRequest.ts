// Original file: packages/client/proto/authmesh/v1/auth.proto

import type { PasswordGrant as _authmesh_v1_PasswordGrant, PasswordGrant__Output as _authmesh_v1_PasswordGrant__Output } from '../../authmesh/v1/PasswordGrant.js';
import type { ClientCredentialsGrant as _authmesh_v1_ClientCredentialsGrant, ClientCredentialsGrant__Output as _authmesh_v1_ClientCredentialsGrant__Output } from '../../authmesh/v1/ClientCredentialsGrant.js';

export interface IssueTokenRequest {
  'password'?: (_authmesh_v1_PasswordGrant | null);
  'client_credentials'?: (_authmesh_v1_ClientCredentialsGrant | null);
  'audience'?: (string)[];
  'scope'?: (string)[];
  'grant'?: "password"|"client_credentials";
}

export interface IssueTokenRequest__Output {
  'password'?: (_authmesh_v1_PasswordGrant__Output | null);
  'client_credentials'?: (_authmesh_v1_ClientCredentialsGrant__Output | null);
  'audience': (string)[];
  'scope': (string)[];
  'grant'?: "password"|"client_credentials";
}
