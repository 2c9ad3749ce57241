// Original file: proto/echo/v1/echo.proto


export interface StreamWhoAmIRequest {
  'count'?: (number);
  'interval_ms'?: (number);
}

export interface StreamWhoAmIRequest__Output {
  'count': (number);
  'interval_ms': (number);
}
