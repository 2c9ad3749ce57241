// Original file: proto/echo/v1/echo.proto


export interface AdminRequest {
}

export interface AdminRequest__Output {
}
