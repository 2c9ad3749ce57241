import { dirname } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { buildFileDescriptors, type ProtoFiles } from './reflection/file-descriptors.js';
import {
  DescriptorReflection,
  REFLECTION_PROTO_FILES,
  reflectionProtoDir,
} from './reflection/reflection-service.js';
import type { MethodRule } from './server/rules.js';

export { AUTHMESH_PROTOS, type ProtoFiles } from './reflection/file-descriptors.js';

/**
 * Rules making gRPC server reflection (v1 and v1alpha) public, so generic tools (grpcurl, Postman)
 * can list and describe methods without a token. It reveals the schema only, never data; leave these
 * rules out to require a token for it (the deny-by-default rule then applies).
 */
export const REFLECTION_RULES: Readonly<Record<string, MethodRule>> = Object.freeze({
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': { public: true },
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': { public: true },
});

/** grpc.health.v1's .proto as shipped by grpc-health-check (for `addReflectionService`). */
export const HEALTH_PROTOS: ProtoFiles = Object.freeze({
  files: 'health/v1/health.proto',
  includeDirs: Object.freeze([dirname(dirname(dirname(healthProtoPath)))]),
});

/** The reflection services' package definition (to merge into the one given to `createServerAuth`). */
export function reflectionPackageDefinition(): PackageDefinition {
  return loadSync(REFLECTION_PROTO_FILES, { includeDirs: [reflectionProtoDir] });
}

const isProtoFiles = (p: unknown): p is ProtoFiles =>
  typeof p === 'object' && p !== null && 'files' in p && 'includeDirs' in p;

/**
 * Adds gRPC server reflection (v1 and v1alpha) describing the services the server really serves.
 *
 * Give the .proto files (`{ files, includeDirs }`, e.g. `[{ files: 'billing/v1/billing.proto',
 * includeDirs: ['proto', protoDir] }, HEALTH_PROTOS]`): reflection then answers with each real file,
 * its dependencies and the `(authmesh.v1.rule)` of each method, which strict clients (grpcurl, Go and
 * C++ descriptor pools) accept. A proto-loader PackageDefinition is still accepted, answered by
 * @grpc/reflection, whose descriptors have invented file names and no dependencies (grpc-node#2595):
 * lenient clients only.
 */
export function addReflectionService(
  server: grpc.Server,
  protos: ProtoFiles | readonly ProtoFiles[] | PackageDefinition,
): void {
  const list = Array.isArray(protos) ? protos : isProtoFiles(protos) ? [protos] : undefined;
  if (list === undefined) {
    new ReflectionService(protos as PackageDefinition).addToServer(server);
    return;
  }
  if (!list.every(isProtoFiles))
    throw new TypeError('addReflectionService: protos: give { files, includeDirs }');
  const files = buildFileDescriptors([
    ...(list as ProtoFiles[]),
    { files: REFLECTION_PROTO_FILES, includeDirs: [reflectionProtoDir] },
  ]);
  new DescriptorReflection(files).addToServer(server);
}
