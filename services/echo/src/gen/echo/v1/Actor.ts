// Original file: proto/echo/v1/echo.proto


export interface Actor {
  'sub'?: (string);
}

export interface Actor__Output {
  'sub': (string);
}
