import type { JetStreamClient } from 'nats';
import { assertNameFree, bindBucket, CLIENTS_BUCKET, jsonValue, nameKey, USERS_BUCKET } from './kv.js';
import { isClientRecord, type ClientRecord } from './records.js';
import type { RecordIntegrity } from './record-mac.js';
import { WatchedBucket } from './watched-bucket.js';

export type { ClientRecord } from './records.js';

/** Clients in the `AUTHMESH_CLIENTS` KV bucket, read from a watched in-memory copy. */
export class ClientStore {
  private constructor(private readonly bucket: WatchedBucket<ClientRecord>) {}

  /**
   * Binds the bucket and loads every client (resolves once the copy is current). Records are checked
   * with `integrity`: one that fails is refused (reported, and read as missing).
   */
  static async open(js: JetStreamClient, integrity: RecordIntegrity): Promise<ClientStore> {
    const kv = integrity.wrap(await bindBucket(js, CLIENTS_BUCKET), CLIENTS_BUCKET);
    return new ClientStore(await WatchedBucket.open(kv, isClientRecord));
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

/** Writes (creates or replaces, sealed with its MAC) a client record: the CLI's `client add`. */
export async function putClient(
  js: JetStreamClient,
  integrity: RecordIntegrity,
  client: ClientRecord,
): Promise<void> {
  await assertNameFree(js, client.client_id, USERS_BUCKET);
  const kv = integrity.wrap(await bindBucket(js, CLIENTS_BUCKET), CLIENTS_BUCKET);
  await kv.put(nameKey(client.client_id), jsonValue(client));
}
