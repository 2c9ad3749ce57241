// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface GetMeshKeyRequest {
  'instance_id'?: (string);
}

export interface GetMeshKeyRequest__Output {
  'instance_id': (string);
}
