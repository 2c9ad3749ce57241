// Original file: proto/echo/v1/echo.proto

import type { Actor as _echo_v1_Actor, Actor__Output as _echo_v1_Actor__Output } from '../../echo/v1/Actor.js';

export interface Principal {
  'sub'?: (string);
  'scopes'?: (string)[];
  'roles'?: (string)[];
  'jti'?: (string);
  'sid'?: (string);
  'client_id'?: (string);
  'aud'?: (string)[];
  'act'?: (_echo_v1_Actor)[];
}

export interface Principal__Output {
  'sub': (string);
  'scopes': (string)[];
  'roles': (string)[];
  'jti': (string);
  'sid': (string);
  'client_id': (string);
  'aud': (string)[];
  'act': (_echo_v1_Actor__Output)[];
}
