import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientCredentialsSource } from './client-credentials-source.js';
import { passwordSource } from './password-source.js';
import { staticTokenSource, type TokenSource } from './token-source.js';
import { isTokenSourceError } from './errors.js';
import { startFakeAuth, type FakeAuth } from './fake-auth.test.js';

let fake: FakeAuth;
let clock = 1_000_000;
const now = () => clock;
const sources: TokenSource[] = [];
const track = <T extends TokenSource>(s: T) => (sources.push(s), s);

beforeEach(async () => {
  fake = await startFakeAuth();
  clock = 1_000_000;
});
afterEach(async () => {
  sources.splice(0).forEach((s) => s.close?.());
  await fake.stop();
});

const cc = (extra: object = {}) =>
  track(
    clientCredentialsSource({
      authTarget: fake.target,
      clientId: 'svc',
      clientSecret: 's3cret-value',
      scope: 'echo:read',
      now,
      random: () => 0.5,
      ...extra,
    }),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Lets background refreshes run their course: waits (bounded) until the fake has seen `calls` requests and
 * answered every one, then a little longer for the answer to reach the source. Polling instead of one fixed
 * pause keeps the test right on a loaded machine, where a request can take longer than any fixed pause.
 */
async function settle(calls: number): Promise<void> {
  const t0 = Date.now();
  while ((fake.calls.length < calls || fake.answered < fake.calls.length) && Date.now() - t0 < 5000)
    await sleep(10);
  await sleep(50);
}

describe('clientCredentialsSource', () => {
  it('sends one request however many callers wait (single flight)', async () => {
    fake.delayMs = 30;
    const source = cc({ audience: 'echo', scope: 'echo:read echo:admin' });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => source.getToken()));
    expect(new Set(tokens)).toEqual(new Set(['cc-1']));
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.request).toMatchObject({
      client_credentials: { client_id: 'svc', client_secret: 's3cret-value' },
      audience: ['echo'],
      scope: ['echo:read', 'echo:admin'],
    });
  });

  it('refreshes once 80 % of the lifetime (or lifetime - 30 s) has passed, serving the old token meanwhile', async () => {
    fake.expiresIn = 100; // refresh at min(80 s, 70 s) = 70 s
    const source = cc();
    expect(await source.getToken()).toBe('cc-1');
    clock += 69_000;
    expect(await source.getToken()).toBe('cc-1');
    expect(fake.calls).toHaveLength(1);
    clock += 2_000;
    // Still valid: served at once while the refresh runs in the background.
    expect(await source.getToken()).toBe('cc-1');
    await settle(2);
    expect(fake.calls).toHaveLength(2);
    expect(await source.getToken()).toBe('cc-2');
  });

  it('uses the 80 % rule for short lifetimes', async () => {
    fake.expiresIn = 60; // min(48 s, 30 s) = 30 s
    const source = cc({ refreshAheadMs: 0 });
    await source.getToken();
    clock += 47_000;
    await source.getToken();
    await settle(1);
    expect(fake.calls).toHaveLength(1);
    clock += 2_000;
    await source.getToken();
    await settle(2);
    expect(fake.calls).toHaveLength(2);
  });

  it('backs off while the auth service is down and serves the current token while it is valid', async () => {
    fake.expiresIn = 100;
    const source = cc({ backoff: { initialMs: 1000, maxMs: 8000 } });
    expect(await source.getToken()).toBe('cc-1');
    fake.mode = 'unavailable';
    clock += 75_000; // past refreshAt: background refresh fails
    expect(await source.getToken()).toBe('cc-1');
    await settle(2);
    expect(fake.calls).toHaveLength(2);
    // Within the backoff (1st failure: 500-1000 ms): no new request, token still served.
    clock += 400;
    expect(await source.getToken()).toBe('cc-1');
    await settle(2);
    expect(fake.calls).toHaveLength(2);
    clock += 700;
    expect(await source.getToken()).toBe('cc-1');
    await settle(3);
    expect(fake.calls).toHaveLength(3);

    // Expired and the service still down: callers fail fast with UNAVAILABLE, no request per caller.
    clock += 30_000;
    const err = await source.getToken().catch((e: unknown) => e);
    expect(isTokenSourceError(err) && err.code).toBe('ERR_TOKEN_SOURCE_UNAVAILABLE');
    const calls = fake.calls.length;
    const again = await Promise.allSettled(Array.from({ length: 20 }, () => source.getToken()));
    expect(again.every((r) => r.status === 'rejected')).toBe(true);
    expect(fake.calls.length).toBe(calls);
    expect(String((err as Error).message)).not.toContain('s3cret');

    fake.mode = 'ok';
    clock += 10_000;
    expect(await source.getToken()).toMatch(/^cc-/);
  });

  it('reports an unreachable auth service as unavailable', async () => {
    const source = track(
      clientCredentialsSource({
        authTarget: '127.0.0.1:1',
        clientId: 'a',
        clientSecret: 'b',
        scope: 'x',
        requestTimeoutMs: 500,
      }),
    );
    const err = await source.getToken().catch((e: unknown) => e);
    expect(isTokenSourceError(err) && err.code).toBe('ERR_TOKEN_SOURCE_UNAVAILABLE');
  });

  it('fetches a new token after invalidate(current), not after invalidate(old)', async () => {
    const source = cc();
    const t1 = await source.getToken();
    source.invalidate!('some-other-token');
    expect(await source.getToken()).toBe(t1);
    source.invalidate!(t1); // younger than a second: kept
    expect(await source.getToken()).toBe(t1);
    clock += 1000;
    source.invalidate!(t1);
    expect(await source.getToken()).not.toBe(t1);
    expect(fake.calls).toHaveLength(2);
  });

  it('validates options at construction', () => {
    expect(() =>
      clientCredentialsSource({ authTarget: 'x:1', clientId: '', clientSecret: 's', scope: 'x' }),
    ).toThrow(/clientId/);
    expect(() => clientCredentialsSource({ clientId: 'a', clientSecret: 's', scope: 'x' })).toThrow(
      /authTarget/,
    );
    expect(() =>
      clientCredentialsSource({
        authTarget: 'x:1',
        clientId: 'a',
        clientSecret: 's',
        scope: 'x',
        refreshRatio: 2,
      }),
    ).toThrow(/refreshRatio/);
    expect(() => staticTokenSource('')).toThrow(TypeError);
  });

  it('requires the scope to ask for: asking for none would get every scope the client is allowed', () => {
    for (const scope of [undefined, '', ' ', [], [''], [1]]) {
      expect(
        () =>
          clientCredentialsSource({
            authTarget: 'x:1',
            clientId: 'a',
            clientSecret: 's',
            scope: scope as never,
          }),
        JSON.stringify(scope),
      ).toThrow(/options\.scope is required/);
    }
  });

  it('sends exactly the configured scope', async () => {
    const source = cc({ scope: ['authmesh:exchange'] });
    await source.getToken();
    expect(fake.calls[0]!.request).toMatchObject({ scope: ['authmesh:exchange'], audience: [] });
  });
});

describe('passwordSource', () => {
  const pw = () =>
    track(
      passwordSource({
        authTarget: fake.target,
        username: 'demo',
        password: 'pa55word',
        audience: ['echo'],
        now,
      }),
    );

  it('logs in once, then renews with Refresh, presenting the latest refresh token', async () => {
    fake.expiresIn = 100;
    const source = pw();
    expect(await source.getToken()).toBe('pw-1');
    clock += 95_000; // not usable any more: the caller waits for the refresh
    expect(await source.getToken()).toBe('rf-2');
    clock += 95_000;
    expect(await source.getToken()).toBe('rf-3');
    expect(fake.calls.map((c) => c.method)).toEqual(['IssueToken', 'Refresh', 'Refresh']);
    expect(fake.calls[1]!.request).toMatchObject({ refresh_token: 'rt-1' });
    expect(fake.calls[2]!.request).toMatchObject({ refresh_token: 'rt-2' });
  });

  it('logs in again when the refresh token is dead', async () => {
    const source = pw();
    await source.getToken();
    fake.mode = 'refresh-dead';
    source.invalidate!();
    expect(await source.getToken()).toMatch(/^pw-/);
    expect(fake.calls.map((c) => c.method)).toEqual(['IssueToken', 'Refresh', 'IssueToken']);
  });

  it('sends one Refresh for 50 concurrent waiters', async () => {
    const source = pw();
    await source.getToken();
    source.invalidate!();
    fake.delayMs = 20;
    await Promise.all(Array.from({ length: 50 }, () => source.getToken()));
    expect(fake.calls.map((c) => c.method)).toEqual(['IssueToken', 'Refresh']);
  });
});

describe('auth connection', () => {
  it('refuses plaintext to a non-loopback auth target unless credentials are given', async () => {
    const grpc = await import('@grpc/grpc-js');
    expect(() =>
      clientCredentialsSource({
        authTarget: 'auth.internal:50051',
        clientId: 'a',
        clientSecret: 's',
        scope: 'x',
      }),
    ).toThrow(/credentials/);
    const s = clientCredentialsSource({
      authTarget: 'auth.internal:50051',
      clientId: 'a',
      clientSecret: 's',
      scope: 'x',
      credentials: grpc.credentials.createInsecure(),
    });
    s.close?.();
    for (const t of ['localhost:1', '127.0.0.1:1', '[::1]:1', 'dns:///127.0.0.2:5']) {
      clientCredentialsSource({ authTarget: t, clientId: 'a', clientSecret: 's', scope: 'x' }).close?.();
    }
  });
});
