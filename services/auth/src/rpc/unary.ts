import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toServiceError } from './errors.js';

/**
 * Adapts an async handler to grpc-js: its result is the response, anything it throws goes through the
 * one status mapping (./errors.ts).
 */
export function unary<Req, Res>(
  name: string,
  log: Logger,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call.request, call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServiceError(err, log, name)),
    );
  };
}
