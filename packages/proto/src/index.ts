import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AuthProto } from './gen/auth.js';
import type { ProtoGrpcType as EchoProto } from './gen/echo.js';

/** Absolute path of the repository's `proto/` directory (the include root of every .proto). */
export const protoRoot = fileURLToPath(new URL('../../../proto/', import.meta.url));

/**
 * proto-loader options shared by every authmesh process and by the type generator, so runtime
 * objects and generated types agree: proto field names, int64 as number, enums as strings.
 */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

/** Loads .proto files (paths relative to `protoRoot`, or absolute) into a package definition. */
export function loadProto(files: string | string[]): protoLoader.PackageDefinition {
  return protoLoader.loadSync(files, loaderOptions);
}

export const authProtoFile = 'authmesh/v1/auth.proto';
export const echoProtoFile = 'echo/v1/echo.proto';

let authDef: protoLoader.PackageDefinition | undefined;
let echoDef: protoLoader.PackageDefinition | undefined;

/** The package definition of `authmesh.v1` (loaded once). */
export function authPackageDefinition(): protoLoader.PackageDefinition {
  return (authDef ??= loadProto(authProtoFile));
}

/** The package definition of `echo.v1` (loaded once). */
export function echoPackageDefinition(): protoLoader.PackageDefinition {
  return (echoDef ??= loadProto(echoProtoFile));
}

/** Typed grpc-js constructors of `authmesh.v1`. */
export function authGrpc(): AuthProto {
  return grpc.loadPackageDefinition(authPackageDefinition()) as unknown as AuthProto;
}

/** Typed grpc-js constructors of `echo.v1`. */
export function echoGrpc(): EchoProto {
  return grpc.loadPackageDefinition(echoPackageDefinition()) as unknown as EchoProto;
}

export type { AuthServiceClient, AuthServiceHandlers } from './gen/authmesh/v1/AuthService.js';
export type { IssueTokenRequest__Output } from './gen/authmesh/v1/IssueTokenRequest.js';
export type { TokenResponse, TokenResponse__Output } from './gen/authmesh/v1/TokenResponse.js';
export type { RefreshRequest__Output } from './gen/authmesh/v1/RefreshRequest.js';
export type { RevokeRequest, RevokeRequest__Output } from './gen/authmesh/v1/RevokeRequest.js';
export type { RevokeResponse } from './gen/authmesh/v1/RevokeResponse.js';
export type { ExchangeTokenRequest__Output } from './gen/authmesh/v1/ExchangeTokenRequest.js';
export type { GetJwksResponse } from './gen/authmesh/v1/GetJwksResponse.js';
export type { MethodRule, MethodRule__Output } from './gen/authmesh/v1/MethodRule.js';
export type { EchoClient, EchoHandlers } from './gen/echo/v1/Echo.js';
export type {
  Principal as EchoPrincipal,
  Principal__Output as EchoPrincipal__Output,
} from './gen/echo/v1/Principal.js';
