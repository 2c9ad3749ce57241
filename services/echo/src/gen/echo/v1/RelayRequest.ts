// Original file: proto/echo/v1/echo.proto


export interface RelayRequest {
  'target'?: (string);
  'audience'?: (string);
}

export interface RelayRequest__Output {
  'target': (string);
  'audience': (string);
}
