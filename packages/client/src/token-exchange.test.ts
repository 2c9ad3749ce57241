import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenExchanger, type TokenExchanger } from './token-exchange.js';
import { staticTokenSource } from './token-source.js';
import { isTokenSourceError } from './errors.js';
import { startFakeAuth, type FakeAuth } from './fake-auth.test.js';

let fake: FakeAuth;
let exchanger: TokenExchanger | undefined;
let clock = 5_000_000;
beforeEach(async () => {
  fake = await startFakeAuth();
  clock = 5_000_000;
});
afterEach(async () => {
  exchanger?.close();
  await fake.stop();
});

const make = (maxEntries?: number) =>
  (exchanger = createTokenExchanger({
    authTarget: fake.target,
    clientSource: staticTokenSource('service-own-token'),
    now: () => clock,
    ...(maxEntries ? { maxEntries } : {}),
  }));
const alice = { jti: 'j1', token: 'alice-token' };

describe('createTokenExchanger', () => {
  it('calls ExchangeToken with the subject token, authenticated as the service', async () => {
    const ex = make();
    expect(await ex.exchange(alice, 'echo-b')).toMatch(/^ex-echo-b-/);
    expect(fake.calls).toEqual([
      {
        method: 'ExchangeToken',
        request: { subject_token: 'alice-token', audience: 'echo-b', scope: [] },
        authorization: 'Bearer service-own-token',
      },
    ]);
  });

  it('caches per (jti, audience) until near expiry, with one request in flight', async () => {
    fake.expiresIn = 100;
    fake.delayMs = 20;
    const ex = make();
    const many = await Promise.all(Array.from({ length: 50 }, () => ex.exchange(alice, 'echo-b')));
    expect(new Set(many).size).toBe(1);
    expect(fake.calls).toHaveLength(1);
    await ex.exchange({ jti: 'j2', token: 'bob' }, 'echo-b');
    await ex.exchange(alice, 'echo-c');
    expect(fake.calls).toHaveLength(3);
    clock += 69_000;
    expect(await ex.exchange(alice, 'echo-b')).toBe(many[0]);
    clock += 2_000;
    expect(await ex.exchange(alice, 'echo-b')).not.toBe(many[0]);
    expect(fake.calls).toHaveLength(4);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const ex = make(2);
    await ex.exchange({ jti: 'a', token: 'a' }, 'x');
    await ex.exchange({ jti: 'b', token: 'b' }, 'x');
    await ex.exchange({ jti: 'a', token: 'a' }, 'x'); // hit: a becomes most recent
    await ex.exchange({ jti: 'c', token: 'c' }, 'x'); // evicts b
    expect(fake.calls).toHaveLength(3);
    await ex.exchange({ jti: 'a', token: 'a' }, 'x');
    expect(fake.calls).toHaveLength(3);
    await ex.exchange({ jti: 'b', token: 'b' }, 'x');
    expect(fake.calls).toHaveLength(4);
  });

  it('rejects with a TokenSourceError carrying the auth service status', async () => {
    fake.mode = 'unavailable';
    const err = await make()
      .exchange(alice, 'echo-b')
      .catch((e: unknown) => e);
    expect(isTokenSourceError(err) && [err.code, err.grpcCode]).toEqual(['ERR_TOKEN_SOURCE_UNAVAILABLE', 14]);
    expect((err as Error).message).not.toContain('alice-token');
  });

  it('validates options', () => {
    expect(() => createTokenExchanger({ authTarget: 'x:1', clientSource: {} as never })).toThrow(
      /clientSource/,
    );
    expect(() =>
      createTokenExchanger({ authTarget: 'x:1', clientSource: staticTokenSource('t'), maxEntries: 0 }),
    ).toThrow(/maxEntries/);
  });
});
