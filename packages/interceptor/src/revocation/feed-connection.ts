import { connect, type NatsConnection } from 'nats';
import type { NatsServersWithCredentials } from './nats-url.js';

/**
 * Reconnect settings of the feed's own connection. A service may start before NATS and must ride out
 * any outage, so it retries forever; 250 ms ± up to 250 ms of jitter brings it back within about half
 * a second of the server, while a server that stays down sees one attempt per ~250–500 ms per
 * interceptor, spread out (not in lockstep across a fleet).
 */
export const FEED_RECONNECT = {
  waitOnFirstConnect: true,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  reconnectJitter: 250,
  pingInterval: 5000,
} as const;

/** Opens the feed's connection to `servers` (credentials already taken out of the URLs). */
export function connectFeed(
  servers: NatsServersWithCredentials | undefined,
  name: string,
): Promise<NatsConnection> {
  // noAsyncTraces: nats.js otherwise captures a stack for every request (the feed's stream check, once a
  // second per feed) to decorate a timeout that almost never happens.
  return connect({ ...servers, name, ...FEED_RECONNECT, noAsyncTraces: true });
}

/**
 * Calls `onReconnect` after every reconnect of `nc`. Returns the stop function. The ordered consumer
 * heals itself after a plain server restart, but when the node that held it is gone (a cluster losing
 * a node) it can take many seconds; the feed re-creates it at once instead.
 */
export function watchReconnects(nc: NatsConnection, onReconnect: () => void): () => void {
  const status = nc.status();
  let stopped = false;
  void (async () => {
    for await (const s of status) {
      if (stopped) break;
      if (s.type === 'reconnect') onReconnect();
    }
  })().catch(() => {});
  return () => {
    stopped = true;
    (status as unknown as { stop?: () => void }).stop?.();
  };
}
