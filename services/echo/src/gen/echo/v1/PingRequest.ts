// Original file: proto/echo/v1/echo.proto


export interface PingRequest {
  'message'?: (string);
}

export interface PingRequest__Output {
  'message': (string);
}
