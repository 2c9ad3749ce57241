import * as grpc from '@grpc/grpc-js';
import type { TokenSource } from '@authmesh/client';
// Internal to authmesh's packages (they move in lockstep): the same connection rules as the token sources.
import { callUnary, connectAuth, type AuthConnectionOptions } from '@authmesh/client/auth-client';
import type { GetMeshKeyResponse__Output } from '../proto/index.js';

/** The key an instance MACs its announcements with, and the client it is bound to. */
export interface MeshKey {
  clientId: string;
  /** 32 bytes; secret (it never travels on NATS). */
  key: Uint8Array;
}

/** Gets the announcement key of one instance id; rejects when it cannot (then it announces unauthenticated). */
export type MeshKeySource = (instanceId: string) => Promise<MeshKey>;

/** Options of {@link meshKeyFromAuthService}. */
export interface MeshKeyFromAuthServiceOptions extends AuthConnectionOptions {
  /**
   * The service's own identity: a client-credentials token for the auth service's own audience (usually
   * the `clientCredentialsSource` that token exchange uses).
   */
  clientSource: TokenSource;
}

/**
 * A {@link MeshKeySource} that asks the auth service (`GetMeshKey`, authenticated with the service's
 * own client token) for the key bound to (its client id, the instance id). Called once per feed (and
 * again only after a failure): the channel is opened for the call and closed after it.
 *
 * @example
 * createRevocationFeed({ …, meshKey: meshKeyFromAuthService({ authTarget, clientSource: ownToken }) });
 */
export function meshKeyFromAuthService(options: MeshKeyFromAuthServiceOptions): MeshKeySource {
  const owner = 'meshKeyFromAuthService';
  if (typeof options?.clientSource?.getToken !== 'function')
    throw new TypeError(`${owner}: options.clientSource must be a TokenSource`);
  // Validates the connection options now (a TypeError names the bad one), then closes this channel.
  connectAuth(options, owner).close();
  return async (instanceId) => {
    const own = await options.clientSource.getToken();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${own}`);
    const conn = connectAuth(options, owner);
    try {
      const req = { instance_id: instanceId };
      const res = await callUnary<typeof req, GetMeshKeyResponse__Output>(
        conn,
        conn.client.GetMeshKey,
        req,
        md,
      );
      if (res.key.length !== 32 || res.client_id === '') throw new Error('GetMeshKey: malformed answer');
      return { clientId: res.client_id, key: new Uint8Array(res.key) };
    } catch (err) {
      if ((err as { code?: unknown }).code === grpc.status.UNAUTHENTICATED)
        options.clientSource.invalidate?.(own);
      throw err;
    } finally {
      conn.close();
    }
  };
}
