// Original file: proto/echo/v1/echo.proto


export interface PingResponse {
  'message'?: (string);
}

export interface PingResponse__Output {
  'message': (string);
}
