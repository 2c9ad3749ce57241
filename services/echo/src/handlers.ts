import * as grpc from '@grpc/grpc-js';
import { getPrincipal } from '@authmesh/interceptor';
import type { EchoHandlers } from './proto.js';
import { toEchoPrincipal } from './principal.js';
import { RelayError, type Relay } from './relay.js';

/**
 * The echo.v1.Echo handlers. Access rules are not here: they are declared in echo.proto and enforced
 * by the interceptor before a handler runs, so a handler only reads the verified principal.
 */
export function echoHandlers(relay: Relay | undefined): EchoHandlers {
  return {
    Ping(call, callback) {
      callback(null, { message: call.request.message ? `pong: ${call.request.message}` : 'pong' });
    },

    WhoAmI(call, callback) {
      callback(null, toEchoPrincipal(getPrincipal(call)));
    },

    Admin(_call, callback) {
      callback(null, { status: 'ok' });
    },

    Relay(call, callback) {
      const { target, audience } = call.request;
      if (!target || !audience) {
        return callback({
          code: grpc.status.INVALID_ARGUMENT,
          details: 'relay: target and audience are required',
        });
      }
      if (!relay) {
        return callback({
          code: grpc.status.FAILED_PRECONDITION,
          details: 'relay: AUTHMESH_CLIENT_ID/SECRET not configured',
        });
      }
      relay.whoAmI(getPrincipal(call), target, audience).then(
        (seen) => callback(null, seen),
        (err: unknown) =>
          callback(
            err instanceof RelayError
              ? { code: err.code, details: err.message }
              : { code: grpc.status.INTERNAL, details: 'relay failed' },
          ),
      );
    },

    StreamWhoAmI(call) {
      const count = call.request.count || 3;
      const interval = call.request.interval_ms;
      if (count < 1 || count > 100 || interval < 0 || interval > 60_000) {
        call.emit('error', {
          code: grpc.status.INVALID_ARGUMENT,
          details: 'count must be 1-100 and interval_ms 0-60000',
        });
        return;
      }
      const principal = toEchoPrincipal(getPrincipal(call));
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      call.on('cancelled', () => clearTimeout(timer));
      const next = () => {
        if (call.cancelled) return;
        call.write(principal);
        if (++sent >= count) call.end();
        else timer = setTimeout(next, interval);
      };
      next();
    },
  };
}
