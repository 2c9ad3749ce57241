// Original file: proto/echo/v1/echo.proto


export interface AdminResponse {
  'status'?: (string);
}

export interface AdminResponse__Output {
  'status': (string);
}
