// `@authmesh/client/proto` (also `@authmesh/interceptor/proto`): authmesh's own protos, as shipped in
// this package, and their types (for code that talks to the auth service directly, and for the auth
// service itself).
export { protoDir } from './proto-dir.js';
export { loaderOptions, authProtoFile, authPackageDefinition, authGrpc } from './auth-proto.js';
export type { ProtoGrpcType as AuthProtoGrpcType } from './gen/auth.js';
export type {
  AuthServiceClient,
  AuthServiceHandlers,
  AuthServiceDefinition,
} from './gen/authmesh/v1/AuthService.js';
export type { IssueTokenRequest, IssueTokenRequest__Output } from './gen/authmesh/v1/IssueTokenRequest.js';
export type { TokenResponse, TokenResponse__Output } from './gen/authmesh/v1/TokenResponse.js';
export type { RefreshRequest, RefreshRequest__Output } from './gen/authmesh/v1/RefreshRequest.js';
export type { RevokeRequest, RevokeRequest__Output } from './gen/authmesh/v1/RevokeRequest.js';
export type { RevokeResponse, RevokeResponse__Output } from './gen/authmesh/v1/RevokeResponse.js';
export type {
  ExchangeTokenRequest,
  ExchangeTokenRequest__Output,
} from './gen/authmesh/v1/ExchangeTokenRequest.js';
export type { GetJwksResponse, GetJwksResponse__Output } from './gen/authmesh/v1/GetJwksResponse.js';
export type {
  MethodRule as MethodRuleMessage,
  MethodRule__Output as MethodRuleMessage__Output,
} from './gen/authmesh/v1/MethodRule.js';
export type { MeshInstance, MeshInstance__Output } from './gen/authmesh/v1/MeshInstance.js';
export type {
  GetMeshStatusRequest,
  GetMeshStatusRequest__Output,
} from './gen/authmesh/v1/GetMeshStatusRequest.js';
export type {
  GetMeshStatusResponse,
  GetMeshStatusResponse__Output,
} from './gen/authmesh/v1/GetMeshStatusResponse.js';
export type { GetMeshKeyRequest, GetMeshKeyRequest__Output } from './gen/authmesh/v1/GetMeshKeyRequest.js';
export type { GetMeshKeyResponse, GetMeshKeyResponse__Output } from './gen/authmesh/v1/GetMeshKeyResponse.js';
