// Original file: packages/interceptor/proto/authmesh/v1/auth.proto


export interface GetMeshStatusRequest {
}

export interface GetMeshStatusRequest__Output {
}
