// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface GetMeshStatusRequest {
}

export interface GetMeshStatusRequest__Output {
}
