import type { JetStreamClient } from 'nats';
import { assertNameFree, bindBucket, CLIENTS_BUCKET, jsonValue, nameKey, USERS_BUCKET } from './kv.js';
import { isClientRecord, type ClientRecord } from './records.js';
import { WatchedBucket } from './watched-bucket.js';

export type { ClientRecord } from './records.js';

/** Clients in the `AUTHMESH_CLIENTS` KV bucket, read from a watched in-memory copy. */
export class ClientStore {
  private constructor(private readonly bucket: WatchedBucket<ClientRecord>) {}

  /** Binds the bucket and loads every client (resolves once the copy is current). */
  static async open(js: JetStreamClient): Promise<ClientStore> {
    return new ClientStore(await WatchedBucket.open(await bindBucket(js, CLIENTS_BUCKET), isClientRecord));
  }

  /** The client with id `clientId`, if any. */
  async get(clientId: string): Promise<ClientRecord | undefined> {
    const client = await this.bucket.get(nameKey(clientId));
    return client?.client_id === clientId ? client : undefined;
  }

  /** Stops the watch. */
  close(): Promise<void> {
    return this.bucket.close();
  }
}

/** Writes (creates or replaces) a client record: the CLI's `client add`. */
export async function putClient(js: JetStreamClient, client: ClientRecord): Promise<void> {
  await assertNameFree(js, client.client_id, USERS_BUCKET);
  const kv = await bindBucket(js, CLIENTS_BUCKET);
  await kv.put(nameKey(client.client_id), jsonValue(client));
}
