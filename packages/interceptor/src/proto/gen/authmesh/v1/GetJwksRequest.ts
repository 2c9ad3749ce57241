// Original file: packages/interceptor/proto/authmesh/v1/auth.proto


export interface GetJwksRequest {
}

export interface GetJwksRequest__Output {
}
