// echo.v1's .proto and its generated types. The .proto lives in the repository's proto/ folder (the
// echo service runs from the repository or its image); `(authmesh.v1.rule)` resolves from the
// interceptor package's protoDir, as it would in any other service.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '@authmesh/interceptor';
import { loaderOptions } from '@authmesh/interceptor/proto';
import type { ProtoGrpcType } from './gen/echo.js';

/** The repository's `proto/` folder (src/ and dist/ are both one level below services/echo). */
export const echoProtoDir: string = fileURLToPath(new URL('../../../proto/', import.meta.url));

export const echoProtoFile = 'echo/v1/echo.proto';

let echoDef: protoLoader.PackageDefinition | undefined;

/** The package definition of `echo.v1` (loaded once), with the loader options its types were generated with. */
export function echoPackageDefinition(): protoLoader.PackageDefinition {
  return (echoDef ??= protoLoader.loadSync(echoProtoFile, {
    ...loaderOptions,
    includeDirs: [echoProtoDir, protoDir],
  }));
}

/** Typed grpc-js constructors of `echo.v1`. */
export function echoGrpc(): ProtoGrpcType {
  return grpc.loadPackageDefinition(echoPackageDefinition()) as unknown as ProtoGrpcType;
}

export type { EchoClient, EchoHandlers } from './gen/echo/v1/Echo.js';
export type {
  Principal as EchoPrincipal,
  Principal__Output as EchoPrincipal__Output,
} from './gen/echo/v1/Principal.js';
