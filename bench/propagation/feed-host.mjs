// The propagation bench's feed host: `count` revocation feeds in one process, each as an echo instance
// has it (its own key store fetching the JWKS from the auth service, its own NATS connection, its own
// stream consumer and core subscription, announcing on authmesh.mesh.>). Each feed's `onRevoked`
// records when it applied an event (ms of CLOCK_MONOTONIC, `process.hrtime`: one clock for every
// process on a Linux machine): nothing polls, so measuring costs one Map.set per feed and event.
import * as grpc from '@grpc/grpc-js';
import { createKeyStore, createRevocationFeed, jwksFromAuthService } from '@authmesh/interceptor';
import { serveCommands } from '../lib/child.mjs';

const feeds = [];
const keyStores = [];
/** Per feed: event value → when that feed applied it (ms, CLOCK_MONOTONIC). */
const applied = [];
const now = () => Number(process.hrtime.bigint()) / 1e6;

serveCommands(
  {
    async init({ natsUrl, authTarget, issuer, count }) {
      for (let i = 0; i < count; i++) {
        const source = jwksFromAuthService(authTarget, grpc.credentials.createInsecure());
        const keys = createKeyStore(source);
        const feed = createRevocationFeed({ servers: natsUrl, keys, issuer, audience: 'bench-feed' });
        const seen = new Map();
        feed.onRevoked((ev) => {
          if (!seen.has(ev.value)) seen.set(ev.value, now());
        });
        keyStores.push(keys);
        feeds.push(feed);
        applied.push(seen);
      }
      await Promise.all(feeds.map((f) => f.ready()));
      return { feeds: feeds.length };
    },
    /** When each feed applied each of `values` (NaN: not applied); clears what it returned. */
    collect({ values }) {
      return applied.map((seen) =>
        values.map((v) => {
          const t = seen.get(v);
          seen.delete(v);
          return t ?? null;
        }),
      );
    },
  },
  async () => {
    await Promise.all(feeds.map((f) => f.close()));
    for (const k of keyStores) k.close?.();
  },
);
