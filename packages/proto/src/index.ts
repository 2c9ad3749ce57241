// Repository-internal shortcuts for the tests, benchmarks and scripts of this repository: authmesh's
// own protos come from @authmesh/interceptor (which ships them), echo's from the echo service. Not a
// published package: a service outside this repository uses `protoDir` from @authmesh/interceptor.
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protoDir } from '@authmesh/interceptor/proto';

export {
  authGrpc,
  authPackageDefinition,
  authProtoFile,
  loaderOptions,
  protoDir,
} from '@authmesh/interceptor/proto';
export type {
  AuthServiceClient,
  AuthServiceHandlers,
  IssueTokenRequest__Output,
  TokenResponse,
  TokenResponse__Output,
  RefreshRequest__Output,
  RevokeRequest,
  RevokeRequest__Output,
  RevokeResponse,
  ExchangeTokenRequest__Output,
  GetJwksResponse,
  MethodRuleMessage as MethodRule,
  MethodRuleMessage__Output as MethodRule__Output,
} from '@authmesh/interceptor/proto';
export {
  echoGrpc,
  echoPackageDefinition,
  echoProtoFile,
  type EchoClient,
  type EchoHandlers,
  type EchoPrincipal,
  type EchoPrincipal__Output,
} from '@authmesh/echo/proto';

/** The repository's `proto/` folder (echo's protos; `authmesh/` there points into the interceptor package). */
export const protoRoot = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** Loads .proto files of this repository (paths relative to `protoRoot`, or absolute). */
export function loadProto(files: string | string[]): protoLoader.PackageDefinition {
  return protoLoader.loadSync(files, { ...loaderOptions, includeDirs: [protoRoot, protoDir] });
}
