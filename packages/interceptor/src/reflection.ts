import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { MethodRule } from './server/rules.js';

/**
 * Rules making gRPC server reflection (v1 and v1alpha) public, so generic tools (grpcurl, Postman)
 * can list and describe methods without a token. It reveals the schema only, never data; leave these
 * rules out to require a token for it (the deny-by-default rule then applies).
 */
export const REFLECTION_RULES: Readonly<Record<string, MethodRule>> = Object.freeze({
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': { public: true },
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': { public: true },
});

/** The reflection services' package definition (to merge into the one given to `createServerAuth`). */
export function reflectionPackageDefinition(): PackageDefinition {
  // @grpc/reflection ships its protos beside build/src; it exports no path for them.
  const root = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
  const opts = { includeDirs: [root] };
  return {
    ...loadSync('grpc/reflection/v1/reflection.proto', opts),
    ...loadSync('grpc/reflection/v1alpha/reflection.proto', opts),
  };
}

/** Adds server reflection describing `packageDefinition` (the services the server really serves). */
export function addReflectionService(server: grpc.Server, packageDefinition: PackageDefinition): void {
  new ReflectionService(packageDefinition).addToServer(server);
}
