// Loads billing.v1 with standard proto-loader: our proto/ folder, plus authmesh's protoDir for
// `import "authmesh/v1/options.proto"`. Paths are resolved from this file, not the working directory.
// `protoDir` comes from @authmesh/client, which servers (through @authmesh/interceptor) and clients both have.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '@authmesh/client';

/** The .proto files, for createServerAuth's `protos` (rules read and their placement checked, as protoc would). */
export const protos = {
  files: 'billing/v1/billing.proto',
  includeDirs: [fileURLToPath(new URL('./proto', import.meta.url)), protoDir],
};
export const packageDefinition = protoLoader.loadSync(protos.files, { includeDirs: protos.includeDirs });
export const { Billing } = grpc.loadPackageDefinition(packageDefinition).billing.v1;
