import type { JetStreamClient } from 'nats';
import {
  assertNameFree,
  bindBucket,
  CLIENTS_BUCKET,
  entryJson,
  isCasConflict,
  jsonValue,
  nameKey,
  USERS_BUCKET,
} from './kv.js';
import { isUserRecord, type UserRecord } from './records.js';
import type { RecordIntegrity } from './record-mac.js';
import { WatchedBucket } from './watched-bucket.js';

export type { UserRecord } from './records.js';

/** Users in the `AUTHMESH_USERS` KV bucket, read from a watched in-memory copy. */
export class UserStore {
  private typical: { version: number; params: string | undefined } = { version: -1, params: undefined };

  private constructor(private readonly bucket: WatchedBucket<UserRecord>) {}

  /**
   * Binds the bucket and loads every user (resolves once the copy is current). Records are checked
   * with `integrity`: one that fails is refused (reported, and read as missing).
   */
  static async open(js: JetStreamClient, integrity: RecordIntegrity): Promise<UserStore> {
    const kv = integrity.wrap(await bindBucket(js, USERS_BUCKET), USERS_BUCKET);
    return new UserStore(await WatchedBucket.open(kv, isUserRecord));
  }

  /** The user named `username`, if any. */
  async get(username: string): Promise<UserRecord | undefined> {
    const user = await this.bucket.get(nameKey(username));
    // The key is derived from the name; a record under the wrong key is ignored.
    return user?.username === username ? user : undefined;
  }

  /**
   * The hash parameters (`scrypt$N$r$p`) most user records have: unknown users are checked at that cost,
   * so that a failed login takes as long whether the user exists or not, also after a cost change.
   * Recomputed only when the users changed.
   */
  typicalHashParams(): string | undefined {
    if (this.typical.version !== this.bucket.version) {
      const counts = new Map<string, number>();
      for (const user of this.bucket.values()) {
        const params = user.password_hash.split('$').slice(0, 4).join('$');
        counts.set(params, (counts.get(params) ?? 0) + 1);
      }
      let params: string | undefined;
      for (const [p, n] of counts) if (params === undefined || n > counts.get(params)!) params = p;
      this.typical = { version: this.bucket.version, params };
    }
    return this.typical.params;
  }

  /**
   * Replaces the password hash of `username` with `newHash` (a rehash at the configured cost after a
   * successful login), only if the record still holds `oldHash`: compare-and-set on its revision, so a
   * password changed in the meantime is never overwritten. True when it was written.
   */
  async rehash(username: string, oldHash: string, newHash: string): Promise<boolean> {
    const key = nameKey(username);
    const entry = await this.bucket.kv.get(key);
    const user = entryJson<UserRecord>(entry);
    if (
      !entry ||
      !user ||
      !isUserRecord(user) ||
      user.username !== username ||
      user.password_hash !== oldHash
    )
      return false;
    try {
      await this.bucket.kv.update(key, jsonValue({ ...user, password_hash: newHash }), entry.revision);
      return true;
    } catch (err) {
      if (isCasConflict(err)) return false;
      throw err;
    }
  }

  /** Stops the watch. */
  close(): Promise<void> {
    return this.bucket.close();
  }
}

/** Writes (creates or replaces, sealed with its MAC) a user record: the CLI's `user add`. */
export async function putUser(
  js: JetStreamClient,
  integrity: RecordIntegrity,
  user: UserRecord,
): Promise<void> {
  await assertNameFree(js, user.username, CLIENTS_BUCKET);
  const kv = integrity.wrap(await bindBucket(js, USERS_BUCKET), USERS_BUCKET);
  await kv.put(nameKey(user.username), jsonValue(user));
}
