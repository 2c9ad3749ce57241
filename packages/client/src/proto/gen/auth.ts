import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AuthServiceClient as _authmesh_v1_AuthServiceClient, AuthServiceDefinition as _authmesh_v1_AuthServiceDefinition } from './authmesh/v1/AuthService.js';
import type { ClientCredentialsGrant as _authmesh_v1_ClientCredentialsGrant, ClientCredentialsGrant__Output as _authmesh_v1_ClientCredentialsGrant__Output } from './authmesh/v1/ClientCredentialsGrant.js';
import type { ExchangeTokenRequest as _authmesh_v1_ExchangeTokenRequest, ExchangeTokenRequest__Output as _authmesh_v1_ExchangeTokenRequest__Output } from './authmesh/v1/ExchangeTokenRequest.js';
import type { GetJwksRequest as _authmesh_v1_GetJwksRequest, GetJwksRequest__Output as _authmesh_v1_GetJwksRequest__Output } from './authmesh/v1/GetJwksRequest.js';
import type { GetJwksResponse as _authmesh_v1_GetJwksResponse, GetJwksResponse__Output as _authmesh_v1_GetJwksResponse__Output } from './authmesh/v1/GetJwksResponse.js';
import type { GetMeshKeyRequest as _authmesh_v1_GetMeshKeyRequest, GetMeshKeyRequest__Output as _authmesh_v1_GetMeshKeyRequest__Output } from './authmesh/v1/GetMeshKeyRequest.js';
import type { GetMeshKeyResponse as _authmesh_v1_GetMeshKeyResponse, GetMeshKeyResponse__Output as _authmesh_v1_GetMeshKeyResponse__Output } from './authmesh/v1/GetMeshKeyResponse.js';
import type { GetMeshStatusRequest as _authmesh_v1_GetMeshStatusRequest, GetMeshStatusRequest__Output as _authmesh_v1_GetMeshStatusRequest__Output } from './authmesh/v1/GetMeshStatusRequest.js';
import type { GetMeshStatusResponse as _authmesh_v1_GetMeshStatusResponse, GetMeshStatusResponse__Output as _authmesh_v1_GetMeshStatusResponse__Output } from './authmesh/v1/GetMeshStatusResponse.js';
import type { IssueTokenRequest as _authmesh_v1_IssueTokenRequest, IssueTokenRequest__Output as _authmesh_v1_IssueTokenRequest__Output } from './authmesh/v1/IssueTokenRequest.js';
import type { MeshInstance as _authmesh_v1_MeshInstance, MeshInstance__Output as _authmesh_v1_MeshInstance__Output } from './authmesh/v1/MeshInstance.js';
import type { MethodRule as _authmesh_v1_MethodRule, MethodRule__Output as _authmesh_v1_MethodRule__Output } from './authmesh/v1/MethodRule.js';
import type { PasswordGrant as _authmesh_v1_PasswordGrant, PasswordGrant__Output as _authmesh_v1_PasswordGrant__Output } from './authmesh/v1/PasswordGrant.js';
import type { RefreshRequest as _authmesh_v1_RefreshRequest, RefreshRequest__Output as _authmesh_v1_RefreshRequest__Output } from './authmesh/v1/RefreshRequest.js';
import type { RevokeRequest as _authmesh_v1_RevokeRequest, RevokeRequest__Output as _authmesh_v1_RevokeRequest__Output } from './authmesh/v1/RevokeRequest.js';
import type { RevokeResponse as _authmesh_v1_RevokeResponse, RevokeResponse__Output as _authmesh_v1_RevokeResponse__Output } from './authmesh/v1/RevokeResponse.js';
import type { TokenResponse as _authmesh_v1_TokenResponse, TokenResponse__Output as _authmesh_v1_TokenResponse__Output } from './authmesh/v1/TokenResponse.js';
import type { DescriptorProto as _google_protobuf_DescriptorProto, DescriptorProto__Output as _google_protobuf_DescriptorProto__Output } from './google/protobuf/DescriptorProto.js';
import type { EnumDescriptorProto as _google_protobuf_EnumDescriptorProto, EnumDescriptorProto__Output as _google_protobuf_EnumDescriptorProto__Output } from './google/protobuf/EnumDescriptorProto.js';
import type { EnumOptions as _google_protobuf_EnumOptions, EnumOptions__Output as _google_protobuf_EnumOptions__Output } from './google/protobuf/EnumOptions.js';
import type { EnumValueDescriptorProto as _google_protobuf_EnumValueDescriptorProto, EnumValueDescriptorProto__Output as _google_protobuf_EnumValueDescriptorProto__Output } from './google/protobuf/EnumValueDescriptorProto.js';
import type { EnumValueOptions as _google_protobuf_EnumValueOptions, EnumValueOptions__Output as _google_protobuf_EnumValueOptions__Output } from './google/protobuf/EnumValueOptions.js';
import type { ExtensionRangeOptions as _google_protobuf_ExtensionRangeOptions, ExtensionRangeOptions__Output as _google_protobuf_ExtensionRangeOptions__Output } from './google/protobuf/ExtensionRangeOptions.js';
import type { FeatureSet as _google_protobuf_FeatureSet, FeatureSet__Output as _google_protobuf_FeatureSet__Output } from './google/protobuf/FeatureSet.js';
import type { FeatureSetDefaults as _google_protobuf_FeatureSetDefaults, FeatureSetDefaults__Output as _google_protobuf_FeatureSetDefaults__Output } from './google/protobuf/FeatureSetDefaults.js';
import type { FieldDescriptorProto as _google_protobuf_FieldDescriptorProto, FieldDescriptorProto__Output as _google_protobuf_FieldDescriptorProto__Output } from './google/protobuf/FieldDescriptorProto.js';
import type { FieldOptions as _google_protobuf_FieldOptions, FieldOptions__Output as _google_protobuf_FieldOptions__Output } from './google/protobuf/FieldOptions.js';
import type { FileDescriptorProto as _google_protobuf_FileDescriptorProto, FileDescriptorProto__Output as _google_protobuf_FileDescriptorProto__Output } from './google/protobuf/FileDescriptorProto.js';
import type { FileDescriptorSet as _google_protobuf_FileDescriptorSet, FileDescriptorSet__Output as _google_protobuf_FileDescriptorSet__Output } from './google/protobuf/FileDescriptorSet.js';
import type { FileOptions as _google_protobuf_FileOptions, FileOptions__Output as _google_protobuf_FileOptions__Output } from './google/protobuf/FileOptions.js';
import type { GeneratedCodeInfo as _google_protobuf_GeneratedCodeInfo, GeneratedCodeInfo__Output as _google_protobuf_GeneratedCodeInfo__Output } from './google/protobuf/GeneratedCodeInfo.js';
import type { MessageOptions as _google_protobuf_MessageOptions, MessageOptions__Output as _google_protobuf_MessageOptions__Output } from './google/protobuf/MessageOptions.js';
import type { MethodDescriptorProto as _google_protobuf_MethodDescriptorProto, MethodDescriptorProto__Output as _google_protobuf_MethodDescriptorProto__Output } from './google/protobuf/MethodDescriptorProto.js';
import type { MethodOptions as _google_protobuf_MethodOptions, MethodOptions__Output as _google_protobuf_MethodOptions__Output } from './google/protobuf/MethodOptions.js';
import type { OneofDescriptorProto as _google_protobuf_OneofDescriptorProto, OneofDescriptorProto__Output as _google_protobuf_OneofDescriptorProto__Output } from './google/protobuf/OneofDescriptorProto.js';
import type { OneofOptions as _google_protobuf_OneofOptions, OneofOptions__Output as _google_protobuf_OneofOptions__Output } from './google/protobuf/OneofOptions.js';
import type { ServiceDescriptorProto as _google_protobuf_ServiceDescriptorProto, ServiceDescriptorProto__Output as _google_protobuf_ServiceDescriptorProto__Output } from './google/protobuf/ServiceDescriptorProto.js';
import type { ServiceOptions as _google_protobuf_ServiceOptions, ServiceOptions__Output as _google_protobuf_ServiceOptions__Output } from './google/protobuf/ServiceOptions.js';
import type { SourceCodeInfo as _google_protobuf_SourceCodeInfo, SourceCodeInfo__Output as _google_protobuf_SourceCodeInfo__Output } from './google/protobuf/SourceCodeInfo.js';
import type { UninterpretedOption as _google_protobuf_UninterpretedOption, UninterpretedOption__Output as _google_protobuf_UninterpretedOption__Output } from './google/protobuf/UninterpretedOption.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authmesh: {
    v1: {
      AuthService: SubtypeConstructor<typeof grpc.Client, _authmesh_v1_AuthServiceClient> & { service: _authmesh_v1_AuthServiceDefinition }
      ClientCredentialsGrant: MessageTypeDefinition<_authmesh_v1_ClientCredentialsGrant, _authmesh_v1_ClientCredentialsGrant__Output>
      ExchangeTokenRequest: MessageTypeDefinition<_authmesh_v1_ExchangeTokenRequest, _authmesh_v1_ExchangeTokenRequest__Output>
      GetJwksRequest: MessageTypeDefinition<_authmesh_v1_GetJwksRequest, _authmesh_v1_GetJwksRequest__Output>
      GetJwksResponse: MessageTypeDefinition<_authmesh_v1_GetJwksResponse, _authmesh_v1_GetJwksResponse__Output>
      GetMeshKeyRequest: MessageTypeDefinition<_authmesh_v1_GetMeshKeyRequest, _authmesh_v1_GetMeshKeyRequest__Output>
      GetMeshKeyResponse: MessageTypeDefinition<_authmesh_v1_GetMeshKeyResponse, _authmesh_v1_GetMeshKeyResponse__Output>
      GetMeshStatusRequest: MessageTypeDefinition<_authmesh_v1_GetMeshStatusRequest, _authmesh_v1_GetMeshStatusRequest__Output>
      GetMeshStatusResponse: MessageTypeDefinition<_authmesh_v1_GetMeshStatusResponse, _authmesh_v1_GetMeshStatusResponse__Output>
      IssueTokenRequest: MessageTypeDefinition<_authmesh_v1_IssueTokenRequest, _authmesh_v1_IssueTokenRequest__Output>
      MeshInstance: MessageTypeDefinition<_authmesh_v1_MeshInstance, _authmesh_v1_MeshInstance__Output>
      MethodRule: MessageTypeDefinition<_authmesh_v1_MethodRule, _authmesh_v1_MethodRule__Output>
      PasswordGrant: MessageTypeDefinition<_authmesh_v1_PasswordGrant, _authmesh_v1_PasswordGrant__Output>
      RefreshRequest: MessageTypeDefinition<_authmesh_v1_RefreshRequest, _authmesh_v1_RefreshRequest__Output>
      RevokeRequest: MessageTypeDefinition<_authmesh_v1_RevokeRequest, _authmesh_v1_RevokeRequest__Output>
      RevokeResponse: MessageTypeDefinition<_authmesh_v1_RevokeResponse, _authmesh_v1_RevokeResponse__Output>
      TokenResponse: MessageTypeDefinition<_authmesh_v1_TokenResponse, _authmesh_v1_TokenResponse__Output>
    }
  }
  google: {
    protobuf: {
      DescriptorProto: MessageTypeDefinition<_google_protobuf_DescriptorProto, _google_protobuf_DescriptorProto__Output>
      Edition: EnumTypeDefinition
      EnumDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumDescriptorProto, _google_protobuf_EnumDescriptorProto__Output>
      EnumOptions: MessageTypeDefinition<_google_protobuf_EnumOptions, _google_protobuf_EnumOptions__Output>
      EnumValueDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumValueDescriptorProto, _google_protobuf_EnumValueDescriptorProto__Output>
      EnumValueOptions: MessageTypeDefinition<_google_protobuf_EnumValueOptions, _google_protobuf_EnumValueOptions__Output>
      ExtensionRangeOptions: MessageTypeDefinition<_google_protobuf_ExtensionRangeOptions, _google_protobuf_ExtensionRangeOptions__Output>
      FeatureSet: MessageTypeDefinition<_google_protobuf_FeatureSet, _google_protobuf_FeatureSet__Output>
      FeatureSetDefaults: MessageTypeDefinition<_google_protobuf_FeatureSetDefaults, _google_protobuf_FeatureSetDefaults__Output>
      FieldDescriptorProto: MessageTypeDefinition<_google_protobuf_FieldDescriptorProto, _google_protobuf_FieldDescriptorProto__Output>
      FieldOptions: MessageTypeDefinition<_google_protobuf_FieldOptions, _google_protobuf_FieldOptions__Output>
      FileDescriptorProto: MessageTypeDefinition<_google_protobuf_FileDescriptorProto, _google_protobuf_FileDescriptorProto__Output>
      FileDescriptorSet: MessageTypeDefinition<_google_protobuf_FileDescriptorSet, _google_protobuf_FileDescriptorSet__Output>
      FileOptions: MessageTypeDefinition<_google_protobuf_FileOptions, _google_protobuf_FileOptions__Output>
      GeneratedCodeInfo: MessageTypeDefinition<_google_protobuf_GeneratedCodeInfo, _google_protobuf_GeneratedCodeInfo__Output>
      MessageOptions: MessageTypeDefinition<_google_protobuf_MessageOptions, _google_protobuf_MessageOptions__Output>
      MethodDescriptorProto: MessageTypeDefinition<_google_protobuf_MethodDescriptorProto, _google_protobuf_MethodDescriptorProto__Output>
      MethodOptions: MessageTypeDefinition<_google_protobuf_MethodOptions, _google_protobuf_MethodOptions__Output>
      OneofDescriptorProto: MessageTypeDefinition<_google_protobuf_OneofDescriptorProto, _google_protobuf_OneofDescriptorProto__Output>
      OneofOptions: MessageTypeDefinition<_google_protobuf_OneofOptions, _google_protobuf_OneofOptions__Output>
      ServiceDescriptorProto: MessageTypeDefinition<_google_protobuf_ServiceDescriptorProto, _google_protobuf_ServiceDescriptorProto__Output>
      ServiceOptions: MessageTypeDefinition<_google_protobuf_ServiceOptions, _google_protobuf_ServiceOptions__Output>
      SourceCodeInfo: MessageTypeDefinition<_google_protobuf_SourceCodeInfo, _google_protobuf_SourceCodeInfo__Output>
      SymbolVisibility: EnumTypeDefinition
      UninterpretedOption: MessageTypeDefinition<_google_protobuf_UninterpretedOption, _google_protobuf_UninterpretedOption__Output>
    }
  }
}

