import type { JetStreamClient } from 'nats';
import { assertNameFree, bindBucket, CLIENTS_BUCKET, jsonValue, nameKey, USERS_BUCKET } from './kv.js';
import { isUserRecord, type UserRecord } from './records.js';
import { WatchedBucket } from './watched-bucket.js';

export type { UserRecord } from './records.js';

/** Users in the `AUTHMESH_USERS` KV bucket, read from a watched in-memory copy. */
export class UserStore {
  private constructor(private readonly bucket: WatchedBucket<UserRecord>) {}

  /** Binds the bucket and loads every user (resolves once the copy is current). */
  static async open(js: JetStreamClient): Promise<UserStore> {
    return new UserStore(await WatchedBucket.open(await bindBucket(js, USERS_BUCKET), isUserRecord));
  }

  /** The user named `username`, if any. */
  async get(username: string): Promise<UserRecord | undefined> {
    const user = await this.bucket.get(nameKey(username));
    // The key is derived from the name; a record under the wrong key is ignored.
    return user?.username === username ? user : undefined;
  }

  /** Stops the watch. */
  close(): Promise<void> {
    return this.bucket.close();
  }
}

/** Writes (creates or replaces) a user record: the CLI's `user add`. */
export async function putUser(js: JetStreamClient, user: UserRecord): Promise<void> {
  await assertNameFree(js, user.username, CLIENTS_BUCKET);
  const kv = await bindBucket(js, USERS_BUCKET);
  await kv.put(nameKey(user.username), jsonValue(user));
}
