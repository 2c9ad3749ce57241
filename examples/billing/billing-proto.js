// Loads billing.v1 with standard proto-loader: our proto/ folder, plus authmesh's protoDir for
// `import "authmesh/v1/options.proto"`. Paths are resolved from this file, not the working directory.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoDir } from '@authmesh/interceptor/client';

export const packageDefinition = protoLoader.loadSync('billing/v1/billing.proto', {
  includeDirs: [fileURLToPath(new URL('./proto', import.meta.url)), protoDir],
});
export const { Billing } = grpc.loadPackageDefinition(packageDefinition).billing.v1;
