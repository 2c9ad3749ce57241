// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface GetMeshKeyResponse {
  'key'?: (Buffer | Uint8Array | string);
  'client_id'?: (string);
}

export interface GetMeshKeyResponse__Output {
  'key': (Buffer);
  'client_id': (string);
}
