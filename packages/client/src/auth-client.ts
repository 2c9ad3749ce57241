// Internal to authmesh's packages (exported as `@authmesh/client/auth-client` for @authmesh/interceptor, whose
// version moves with this one); not a public API.
import * as grpc from '@grpc/grpc-js';
import { authGrpc, type AuthServiceClient } from './proto/index.js';

/** How a client-side helper reaches the auth service: a target to dial, or a client you own. */
export interface AuthConnectionOptions {
  /** `host:port` of the auth service (`AUTHMESH_AUTH_TARGET`). A channel is opened and closed by the helper. */
  authTarget?: string;
  /** An existing AuthService client (not closed by the helper). Give this or `authTarget`, not both. */
  authClient?: AuthServiceClient;
  /**
   * Channel credentials for `authTarget`. Default: plaintext, for loopback targets only; any other
   * target needs them passed explicitly (secrets and passwords travel on this channel), e.g.
   * `grpc.credentials.createSsl()` or, knowingly, `grpc.credentials.createInsecure()`.
   */
  credentials?: grpc.ChannelCredentials;
  /** Deadline of each auth-service request, ms (default 5000). */
  requestTimeoutMs?: number;
}

/** A resolved connection to the auth service. */
export interface AuthConnection {
  readonly client: AuthServiceClient;
  readonly requestTimeoutMs: number;
  /** Closes the channel if this connection opened it. */
  close(): void;
}

/** Validates the connection options once (a TypeError names the bad option) and opens the channel. */
export function connectAuth(options: AuthConnectionOptions, owner: string): AuthConnection {
  const { authTarget, authClient } = options;
  if ((authTarget === undefined) === (authClient === undefined)) {
    throw new TypeError(`${owner}: give exactly one of options.authTarget or options.authClient`);
  }
  if (authTarget !== undefined && (typeof authTarget !== 'string' || authTarget.length === 0)) {
    throw new TypeError(`${owner}: options.authTarget must be a non-empty "host:port" string`);
  }
  if (authTarget !== undefined && options.credentials === undefined && !isLoopbackTarget(authTarget)) {
    throw new TypeError(
      `${owner}: options.credentials is required for the non-loopback auth target ${authTarget}`,
    );
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new TypeError(`${owner}: options.requestTimeoutMs must be a positive number of ms`);
  }
  if (authClient) return { client: authClient, requestTimeoutMs, close() {} };
  const { AuthService } = authGrpc().authmesh.v1;
  const client = new AuthService(authTarget!, options.credentials ?? grpc.credentials.createInsecure());
  return { client, requestTimeoutMs, close: () => client.close() };
}

/** True for `localhost:P`, `127.x.y.z:P`, `[::1]:P` (optionally with a `dns:`/`ipv4:`/`ipv6:` scheme). */
export function isLoopbackTarget(target: string): boolean {
  const t = target.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const host = (/^\[([^\]]+)\](?::\d+)?$/.exec(t) ?? /^([^:]+)(?::\d+)?$/.exec(t))?.[1] ?? t;
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

/** Calls a unary method of a grpc-js client as a promise, with a deadline. */
export function callUnary<Req, Res>(
  conn: AuthConnection,
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(
      conn.client,
      request,
      metadata,
      { deadline: Date.now() + conn.requestTimeoutMs },
      (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(new Error('empty response'));
        else resolve(res);
      },
    );
  });
}

/** Splits `"a b"` or `["a", "b"]` into a list, dropping empties. */
export function toList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(/[\s,]+/) : [...value];
  return items.filter((s) => s.length > 0);
}
