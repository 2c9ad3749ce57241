// Original file: proto/echo/v1/echo.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AdminRequest as _echo_v1_AdminRequest, AdminRequest__Output as _echo_v1_AdminRequest__Output } from '../../echo/v1/AdminRequest.js';
import type { AdminResponse as _echo_v1_AdminResponse, AdminResponse__Output as _echo_v1_AdminResponse__Output } from '../../echo/v1/AdminResponse.js';
import type { PingRequest as _echo_v1_PingRequest, PingRequest__Output as _echo_v1_PingRequest__Output } from '../../echo/v1/PingRequest.js';
import type { PingResponse as _echo_v1_PingResponse, PingResponse__Output as _echo_v1_PingResponse__Output } from '../../echo/v1/PingResponse.js';
import type { Principal as _echo_v1_Principal, Principal__Output as _echo_v1_Principal__Output } from '../../echo/v1/Principal.js';
import type { RelayRequest as _echo_v1_RelayRequest, RelayRequest__Output as _echo_v1_RelayRequest__Output } from '../../echo/v1/RelayRequest.js';
import type { StreamWhoAmIRequest as _echo_v1_StreamWhoAmIRequest, StreamWhoAmIRequest__Output as _echo_v1_StreamWhoAmIRequest__Output } from '../../echo/v1/StreamWhoAmIRequest.js';
import type { WhoAmIRequest as _echo_v1_WhoAmIRequest, WhoAmIRequest__Output as _echo_v1_WhoAmIRequest__Output } from '../../echo/v1/WhoAmIRequest.js';

export interface EchoClient extends grpc.Client {
  Admin(argument: _echo_v1_AdminRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Admin(argument: _echo_v1_AdminRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Admin(argument: _echo_v1_AdminRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  Admin(argument: _echo_v1_AdminRequest, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  admin(argument: _echo_v1_AdminRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  admin(argument: _echo_v1_AdminRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  admin(argument: _echo_v1_AdminRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  admin(argument: _echo_v1_AdminRequest, callback: grpc.requestCallback<_echo_v1_AdminResponse__Output>): grpc.ClientUnaryCall;
  
  Ping(argument: _echo_v1_PingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _echo_v1_PingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _echo_v1_PingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _echo_v1_PingRequest, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _echo_v1_PingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _echo_v1_PingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _echo_v1_PingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _echo_v1_PingRequest, callback: grpc.requestCallback<_echo_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  
  Relay(argument: _echo_v1_RelayRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  Relay(argument: _echo_v1_RelayRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  Relay(argument: _echo_v1_RelayRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  Relay(argument: _echo_v1_RelayRequest, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  relay(argument: _echo_v1_RelayRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  relay(argument: _echo_v1_RelayRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  relay(argument: _echo_v1_RelayRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  relay(argument: _echo_v1_RelayRequest, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  
  StreamWhoAmI(argument: _echo_v1_StreamWhoAmIRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_echo_v1_Principal__Output>;
  StreamWhoAmI(argument: _echo_v1_StreamWhoAmIRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_echo_v1_Principal__Output>;
  streamWhoAmI(argument: _echo_v1_StreamWhoAmIRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_echo_v1_Principal__Output>;
  streamWhoAmI(argument: _echo_v1_StreamWhoAmIRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_echo_v1_Principal__Output>;
  
  WhoAmI(argument: _echo_v1_WhoAmIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  WhoAmI(argument: _echo_v1_WhoAmIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  WhoAmI(argument: _echo_v1_WhoAmIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  WhoAmI(argument: _echo_v1_WhoAmIRequest, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  whoAmI(argument: _echo_v1_WhoAmIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  whoAmI(argument: _echo_v1_WhoAmIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  whoAmI(argument: _echo_v1_WhoAmIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  whoAmI(argument: _echo_v1_WhoAmIRequest, callback: grpc.requestCallback<_echo_v1_Principal__Output>): grpc.ClientUnaryCall;
  
}

export interface EchoHandlers extends grpc.UntypedServiceImplementation {
  Admin: grpc.handleUnaryCall<_echo_v1_AdminRequest__Output, _echo_v1_AdminResponse>;
  
  Ping: grpc.handleUnaryCall<_echo_v1_PingRequest__Output, _echo_v1_PingResponse>;
  
  Relay: grpc.handleUnaryCall<_echo_v1_RelayRequest__Output, _echo_v1_Principal>;
  
  StreamWhoAmI: grpc.handleServerStreamingCall<_echo_v1_StreamWhoAmIRequest__Output, _echo_v1_Principal>;
  
  WhoAmI: grpc.handleUnaryCall<_echo_v1_WhoAmIRequest__Output, _echo_v1_Principal>;
  
}

export interface EchoDefinition extends grpc.ServiceDefinition {
  Admin: MethodDefinition<_echo_v1_AdminRequest, _echo_v1_AdminResponse, _echo_v1_AdminRequest__Output, _echo_v1_AdminResponse__Output>
  Ping: MethodDefinition<_echo_v1_PingRequest, _echo_v1_PingResponse, _echo_v1_PingRequest__Output, _echo_v1_PingResponse__Output>
  Relay: MethodDefinition<_echo_v1_RelayRequest, _echo_v1_Principal, _echo_v1_RelayRequest__Output, _echo_v1_Principal__Output>
  StreamWhoAmI: MethodDefinition<_echo_v1_StreamWhoAmIRequest, _echo_v1_Principal, _echo_v1_StreamWhoAmIRequest__Output, _echo_v1_Principal__Output>
  WhoAmI: MethodDefinition<_echo_v1_WhoAmIRequest, _echo_v1_Principal, _echo_v1_WhoAmIRequest__Output, _echo_v1_Principal__Output>
}
