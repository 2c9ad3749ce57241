import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { addHealthService, type HealthService } from './health.js';

describe('addHealthService', () => {
  let health: HealthService | undefined;
  afterEach(() => health?.close());

  it('follows readiness and staleness (policy reject), and reports NOT_SERVING after close()', async () => {
    let ready = false;
    let resolveReady!: () => void;
    const readyPromise = new Promise<void>((r) => (resolveReady = r));
    let stale = false;
    const feed = { isStale: () => stale, stalePolicy: 'reject' as const };
    health = addHealthService(
      new grpc.Server(),
      { isReady: () => ready, ready: () => readyPromise },
      ['x.v1.X'],
      {
        feed,
        intervalMs: 10_000,
      },
    );
    expect(health.status()).toBe('NOT_SERVING');
    ready = true;
    resolveReady();
    await readyPromise;
    await Promise.resolve();
    // Flipped by ready() resolving, not by the (long) sampling interval.
    expect(health.status()).toBe('SERVING');
    stale = true;
    expect(health.update()).toBe('NOT_SERVING');
    stale = false;
    expect(health.update()).toBe('SERVING');
    health.close();
    expect(health.status()).toBe('NOT_SERVING');
    expect(health.update()).toBe('NOT_SERVING');
  });

  it('keeps SERVING while stale under policy allow', () => {
    health = addHealthService(new grpc.Server(), { isReady: () => true }, [], {
      feed: { isStale: () => true, stalePolicy: 'allow' },
    });
    expect(health.status()).toBe('SERVING');
  });

  it('validates its options with a TypeError naming the option', () => {
    const server = new grpc.Server();
    expect(() => addHealthService(server, {} as never, [])).toThrow(/serverAuth/);
    expect(() => addHealthService(server, { isReady: () => true }, [''])).toThrow(/serviceNames/);
    expect(() => addHealthService(server, { isReady: () => true }, [], { intervalMs: 0 })).toThrow(
      /intervalMs/,
    );
  });
});
