import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/auth.js';
import { protoDir } from './proto-dir.js';

/**
 * The proto-loader options authmesh loads its own protos with (and generates their types with, see
 * scripts/gen-types.mjs), so runtime objects and generated types agree: proto field names, int64 as
 * number, enums as strings. Your own protos may use any options: the rules are read either way.
 */
export const loaderOptions: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
});

export const authProtoFile = 'authmesh/v1/auth.proto';

let authDef: protoLoader.PackageDefinition | undefined;

/** The package definition of `authmesh.v1` (loaded once, from the package's own protoDir). */
export function authPackageDefinition(): protoLoader.PackageDefinition {
  return (authDef ??= protoLoader.loadSync(authProtoFile, loaderOptions));
}

/** Typed grpc-js constructors of `authmesh.v1` (`authGrpc().authmesh.v1.AuthService`). */
export function authGrpc(): ProtoGrpcType {
  return grpc.loadPackageDefinition(authPackageDefinition()) as unknown as ProtoGrpcType;
}
