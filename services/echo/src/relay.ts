import * as grpc from '@grpc/grpc-js';
import { isTokenSourceError, type Principal, type TokenExchanger } from '@authmesh/interceptor';
import { echoGrpc, type EchoClient, type EchoPrincipal__Output } from './proto.js';

/** A failure of Relay, as the status the caller gets. */
export class RelayError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls WhoAmI on another echo instance on behalf of the caller: the caller's token is exchanged
 * for the downstream audience (never forwarded as is: it is meant for this service only).
 */
export class Relay {
  // One channel per target, kept for reuse; few targets are expected, so the oldest is closed past 16.
  private readonly clients = new Map<string, EchoClient>();

  constructor(
    private readonly exchanger: TokenExchanger,
    private readonly options: { allowInsecureTransport: boolean; credentials?: grpc.ChannelCredentials },
  ) {}

  async whoAmI(principal: Principal, target: string, audience: string): Promise<EchoPrincipal__Output> {
    // The exchanged token travels in plaintext: only to this machine unless explicitly allowed.
    if (
      this.options.credentials === undefined &&
      !this.options.allowInsecureTransport &&
      !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\]):\d+$/.test(target)
    ) {
      throw new RelayError(
        grpc.status.INVALID_ARGUMENT,
        'relay: non-loopback target needs AUTHMESH_ALLOW_INSECURE_TRANSPORT=true',
      );
    }
    let token: string;
    try {
      token = await this.exchanger.exchange(principal, audience);
    } catch (err) {
      // The auth service's answer (PERMISSION_DENIED for an audience the user may not reach...) is kept.
      const code =
        isTokenSourceError(err) && err.grpcCode !== undefined ? err.grpcCode : grpc.status.UNAVAILABLE;
      throw new RelayError(code, `relay: token exchange failed (${grpc.status[code]})`);
    }
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      this.client(target).WhoAmI({}, md, { deadline: Date.now() + 5000 }, (err, res) => {
        if (err || !res)
          reject(
            new RelayError(
              err?.code ?? grpc.status.UNKNOWN,
              `relay: ${target} answered ${grpc.status[err?.code ?? 2]}`,
            ),
          );
        else resolve(res);
      });
    });
  }

  private client(target: string): EchoClient {
    let c = this.clients.get(target);
    if (!c) {
      c = new (echoGrpc().echo.v1.Echo)(
        target,
        this.options.credentials ?? grpc.credentials.createInsecure(),
      );
      this.clients.set(target, c);
      if (this.clients.size > 16) {
        const [oldest, old] = this.clients.entries().next().value!;
        old.close();
        this.clients.delete(oldest);
      }
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.exchanger.close();
  }
}
