// Original file: packages/client/proto/authmesh/v1/options.proto


export interface MethodRule {
  'public'?: (boolean);
  'scopes'?: (string)[];
  'roles'?: (string)[];
}

export interface MethodRule__Output {
  'public': (boolean);
  'scopes': (string)[];
  'roles': (string)[];
}
