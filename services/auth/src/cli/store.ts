import type { NatsConnection } from 'nats';
import type { AuthConfig } from '../config.js';
import { readLifetimes, type Lifetimes } from '../lifetimes.js';
import {
  BUCKETS,
  isClusterForming,
  openBucket,
  openBuckets,
  retryJetStreamSetup,
  type AuthBuckets,
} from '../nats.js';
import type { RecordBucket, RecordIntegrity } from '../stores/record-mac.js';
import type { CommandIo } from './command.js';
import { cliKek, cliRecords } from './kek.js';

/** The shared store as a CLI command sees it. */
export interface CliStore {
  readonly buckets: AuthBuckets;
  /** The KEK (configured, or in development the one the service stored). */
  readonly kek: Buffer;
  /** Seals what the command writes, refuses what fails on read (../stores/record-mac.ts). */
  readonly records: RecordIntegrity;
  /** `AUTHMESH_KEYS`, authenticated. */
  readonly keys: RecordBucket;
  /** What the auth service stored that it runs with; undefined before it first ran. */
  readonly lifetimes: Lifetimes | undefined;
}

/**
 * Opens the store for a CLI command. Retention follows what the running service stored, never this
 * shell's environment: existing buckets are only ever raised (../nats.ts), and to the stored lifetimes;
 * this shell's `AUTHMESH_REFRESH_ABSOLUTE_TTL` only sizes buckets the service has not created yet.
 */
export async function openCliStore(nc: NatsConnection, config: AuthConfig, io: CommandIo): Promise<CliStore> {
  const js = nc.jetstream();
  // Like the service (../server.ts): right after a cluster forms, bucket creation fails for a few seconds.
  let told = false;
  const setup = <T>(step: () => Promise<T>) =>
    retryJetStreamSetup(step, {
      forMs: 15_000,
      retryIf: isClusterForming,
      onRetry: () => {
        if (!told)
          io.stderr.write('authmesh: JetStream not ready yet (cluster forming?); retrying for up to 15 s\n');
        told = true;
      },
    });
  const keysRaw = await setup(() => openBucket(js, BUCKETS.keys, config.natsReplicas));
  const kek = await cliKek(config, keysRaw, io);
  const records = cliRecords(kek, io);
  const keys = records.wrap(keysRaw, BUCKETS.keys);
  const lifetimes = await readLifetimes(keys);
  const buckets = await setup(() =>
    openBuckets(js, config.natsReplicas, lifetimes?.refreshAbsoluteTtlSec ?? config.refreshAbsoluteTtlSec),
  );
  return { buckets, kek, records, keys, lifetimes };
}

/** The stored lifetimes, for commands that prune keys or sign revocation events. */
export function storedLifetimes(store: CliStore): Lifetimes {
  if (store.lifetimes === undefined) {
    throw new Error(
      'the auth service has not stored the lifetimes it runs with (AUTHMESH_KEYS/lifetimes): start it once; ' +
        "this command follows them, not this shell's AUTHMESH_ACCESS_TTL",
    );
  }
  return store.lifetimes;
}
