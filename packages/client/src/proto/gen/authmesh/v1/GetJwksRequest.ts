// Original file: packages/client/proto/authmesh/v1/auth.proto


export interface GetJwksRequest {
}

export interface GetJwksRequest__Output {
}
