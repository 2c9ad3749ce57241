// Original file: packages/client/proto/authmesh/v1/auth.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExchangeTokenRequest as _authmesh_v1_ExchangeTokenRequest, ExchangeTokenRequest__Output as _authmesh_v1_ExchangeTokenRequest__Output } from '../../authmesh/v1/ExchangeTokenRequest.js';
import type { GetJwksRequest as _authmesh_v1_GetJwksRequest, GetJwksRequest__Output as _authmesh_v1_GetJwksRequest__Output } from '../../authmesh/v1/GetJwksRequest.js';
import type { GetJwksResponse as _authmesh_v1_GetJwksResponse, GetJwksResponse__Output as _authmesh_v1_GetJwksResponse__Output } from '../../authmesh/v1/GetJwksResponse.js';
import type { GetMeshKeyRequest as _authmesh_v1_GetMeshKeyRequest, GetMeshKeyRequest__Output as _authmesh_v1_GetMeshKeyRequest__Output } from '../../authmesh/v1/GetMeshKeyRequest.js';
import type { GetMeshKeyResponse as _authmesh_v1_GetMeshKeyResponse, GetMeshKeyResponse__Output as _authmesh_v1_GetMeshKeyResponse__Output } from '../../authmesh/v1/GetMeshKeyResponse.js';
import type { GetMeshStatusRequest as _authmesh_v1_GetMeshStatusRequest, GetMeshStatusRequest__Output as _authmesh_v1_GetMeshStatusRequest__Output } from '../../authmesh/v1/GetMeshStatusRequest.js';
import type { GetMeshStatusResponse as _authmesh_v1_GetMeshStatusResponse, GetMeshStatusResponse__Output as _authmesh_v1_GetMeshStatusResponse__Output } from '../../authmesh/v1/GetMeshStatusResponse.js';
import type { IssueTokenRequest as _authmesh_v1_IssueTokenRequest, IssueTokenRequest__Output as _authmesh_v1_IssueTokenRequest__Output } from '../../authmesh/v1/IssueTokenRequest.js';
import type { RefreshRequest as _authmesh_v1_RefreshRequest, RefreshRequest__Output as _authmesh_v1_RefreshRequest__Output } from '../../authmesh/v1/RefreshRequest.js';
import type { RevokeRequest as _authmesh_v1_RevokeRequest, RevokeRequest__Output as _authmesh_v1_RevokeRequest__Output } from '../../authmesh/v1/RevokeRequest.js';
import type { RevokeResponse as _authmesh_v1_RevokeResponse, RevokeResponse__Output as _authmesh_v1_RevokeResponse__Output } from '../../authmesh/v1/RevokeResponse.js';
import type { TokenResponse as _authmesh_v1_TokenResponse, TokenResponse__Output as _authmesh_v1_TokenResponse__Output } from '../../authmesh/v1/TokenResponse.js';

export interface AuthServiceClient extends grpc.Client {
  ExchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  ExchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  ExchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  ExchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  exchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  exchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  exchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  exchangeToken(argument: _authmesh_v1_ExchangeTokenRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  
  GetJwks(argument: _authmesh_v1_GetJwksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  GetJwks(argument: _authmesh_v1_GetJwksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  GetJwks(argument: _authmesh_v1_GetJwksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  GetJwks(argument: _authmesh_v1_GetJwksRequest, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  getJwks(argument: _authmesh_v1_GetJwksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  getJwks(argument: _authmesh_v1_GetJwksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  getJwks(argument: _authmesh_v1_GetJwksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  getJwks(argument: _authmesh_v1_GetJwksRequest, callback: grpc.requestCallback<_authmesh_v1_GetJwksResponse__Output>): grpc.ClientUnaryCall;
  
  GetMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  GetMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  GetMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  GetMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  getMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  getMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  getMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  getMeshKey(argument: _authmesh_v1_GetMeshKeyRequest, callback: grpc.requestCallback<_authmesh_v1_GetMeshKeyResponse__Output>): grpc.ClientUnaryCall;
  
  GetMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  GetMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  GetMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  GetMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  getMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  getMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  getMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  getMeshStatus(argument: _authmesh_v1_GetMeshStatusRequest, callback: grpc.requestCallback<_authmesh_v1_GetMeshStatusResponse__Output>): grpc.ClientUnaryCall;
  
  IssueToken(argument: _authmesh_v1_IssueTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  IssueToken(argument: _authmesh_v1_IssueTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  IssueToken(argument: _authmesh_v1_IssueTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  IssueToken(argument: _authmesh_v1_IssueTokenRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  issueToken(argument: _authmesh_v1_IssueTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  issueToken(argument: _authmesh_v1_IssueTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  issueToken(argument: _authmesh_v1_IssueTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  issueToken(argument: _authmesh_v1_IssueTokenRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  
  Refresh(argument: _authmesh_v1_RefreshRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  Refresh(argument: _authmesh_v1_RefreshRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  Refresh(argument: _authmesh_v1_RefreshRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  Refresh(argument: _authmesh_v1_RefreshRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  refresh(argument: _authmesh_v1_RefreshRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  refresh(argument: _authmesh_v1_RefreshRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  refresh(argument: _authmesh_v1_RefreshRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  refresh(argument: _authmesh_v1_RefreshRequest, callback: grpc.requestCallback<_authmesh_v1_TokenResponse__Output>): grpc.ClientUnaryCall;
  
  Revoke(argument: _authmesh_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authmesh_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authmesh_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authmesh_v1_RevokeRequest, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authmesh_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authmesh_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authmesh_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authmesh_v1_RevokeRequest, callback: grpc.requestCallback<_authmesh_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AuthServiceHandlers extends grpc.UntypedServiceImplementation {
  ExchangeToken: grpc.handleUnaryCall<_authmesh_v1_ExchangeTokenRequest__Output, _authmesh_v1_TokenResponse>;
  
  GetJwks: grpc.handleUnaryCall<_authmesh_v1_GetJwksRequest__Output, _authmesh_v1_GetJwksResponse>;
  
  GetMeshKey: grpc.handleUnaryCall<_authmesh_v1_GetMeshKeyRequest__Output, _authmesh_v1_GetMeshKeyResponse>;
  
  GetMeshStatus: grpc.handleUnaryCall<_authmesh_v1_GetMeshStatusRequest__Output, _authmesh_v1_GetMeshStatusResponse>;
  
  IssueToken: grpc.handleUnaryCall<_authmesh_v1_IssueTokenRequest__Output, _authmesh_v1_TokenResponse>;
  
  Refresh: grpc.handleUnaryCall<_authmesh_v1_RefreshRequest__Output, _authmesh_v1_TokenResponse>;
  
  Revoke: grpc.handleUnaryCall<_authmesh_v1_RevokeRequest__Output, _authmesh_v1_RevokeResponse>;
  
}

export interface AuthServiceDefinition extends grpc.ServiceDefinition {
  ExchangeToken: MethodDefinition<_authmesh_v1_ExchangeTokenRequest, _authmesh_v1_TokenResponse, _authmesh_v1_ExchangeTokenRequest__Output, _authmesh_v1_TokenResponse__Output>
  GetJwks: MethodDefinition<_authmesh_v1_GetJwksRequest, _authmesh_v1_GetJwksResponse, _authmesh_v1_GetJwksRequest__Output, _authmesh_v1_GetJwksResponse__Output>
  GetMeshKey: MethodDefinition<_authmesh_v1_GetMeshKeyRequest, _authmesh_v1_GetMeshKeyResponse, _authmesh_v1_GetMeshKeyRequest__Output, _authmesh_v1_GetMeshKeyResponse__Output>
  GetMeshStatus: MethodDefinition<_authmesh_v1_GetMeshStatusRequest, _authmesh_v1_GetMeshStatusResponse, _authmesh_v1_GetMeshStatusRequest__Output, _authmesh_v1_GetMeshStatusResponse__Output>
  IssueToken: MethodDefinition<_authmesh_v1_IssueTokenRequest, _authmesh_v1_TokenResponse, _authmesh_v1_IssueTokenRequest__Output, _authmesh_v1_TokenResponse__Output>
  Refresh: MethodDefinition<_authmesh_v1_RefreshRequest, _authmesh_v1_TokenResponse, _authmesh_v1_RefreshRequest__Output, _authmesh_v1_TokenResponse__Output>
  Revoke: MethodDefinition<_authmesh_v1_RevokeRequest, _authmesh_v1_RevokeResponse, _authmesh_v1_RevokeRequest__Output, _authmesh_v1_RevokeResponse__Output>
}
