import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';

/** The revocation stream as the auth service creates it (DESIGN.md: AUTHMESH_REVOCATIONS on authmesh.revoked.>). */
export const revocationStream = 'AUTHMESH_REVOCATIONS';

/** Creates the revocation stream on `natsUrl` (max age 6 min: 300 s tokens + skew) if missing. */
export async function ensureRevocationStream(natsUrl) {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(revocationStream);
    } catch {
      await jsm.streams.add({
        name: revocationStream,
        subjects: ['authmesh.revoked.>'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(360_000),
        duplicate_window: nanos(120_000),
      });
    }
  } finally {
    await nc.close();
  }
}
