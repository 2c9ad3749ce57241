// Clock skew at the edges, on a frozen clock (unit level, the interceptor's verifier and cached
// authenticator as createServerAuth configures them: 5 s tolerance). RFC 7519 §4.1.4 (exp: reject when
// now ≥ exp, here now − 5 s ≥ exp), §4.1.5 (nbf), RFC 9068 §2.2 (iat), each one second inside and
// one second outside the tolerance, plus a cached verdict outliving its token.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAuthError } from '@authmesh/interceptor';
import { authenticator, goodClaims, goodHeader, outcome, signRaw, verify } from '../fuzz/setup.js';

const T = 1_800_000_000; // a whole second, so the edges are exact
const TOL = 5;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

const token = (c: Record<string, number>) =>
  signRaw(goodHeader, { ...goodClaims(), iat: T, nbf: T, exp: T + 300, ...c });
async function code(t: string): Promise<string> {
  const out = await outcome(() => verify(t));
  if (out === 'accepted') return 'accepted';
  expect(isAuthError(out)).toBe(true);
  return (out as { code: string }).code;
}

describe('clock skew at the edges (frozen clock, 5 s tolerance)', () => {
  it.each([
    ['exp = now − tolerance + 1 (inside)', { exp: T - TOL + 1 }, 'accepted'],
    ['exp = now − tolerance (the edge: rejected)', { exp: T - TOL }, 'ERR_TOKEN_EXPIRED'],
    ['exp = now − tolerance − 1 (outside)', { exp: T - TOL - 1 }, 'ERR_TOKEN_EXPIRED'],
    ['exp = now (expired without tolerance, inside with it)', { exp: T }, 'accepted'],
    ['nbf = now + tolerance (the edge: accepted)', { nbf: T + TOL }, 'accepted'],
    ['nbf = now + tolerance + 1 (outside)', { nbf: T + TOL + 1 }, 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat = now + tolerance (the edge: accepted)', { iat: T + TOL, nbf: T }, 'accepted'],
    ['iat = now + tolerance + 1 (outside)', { iat: T + TOL + 1, nbf: T }, 'ERR_TOKEN_NOT_YET_VALID'],
    ['fractional exp 0.5 s inside the edge', { exp: T - TOL + 0.5 }, 'accepted'],
    ['fractional nbf 0.5 s past the edge', { nbf: T + TOL + 0.5 }, 'ERR_TOKEN_NOT_YET_VALID'],
  ])('%s', async (_name, claims, want) => {
    expect(await code(token(claims))).toBe(want);
  });

  it('a cached verdict does not outlive the token: accepted inside the tolerance, rejected past it', async () => {
    const t = token({ exp: T + 10 });
    expect(await outcome(() => authenticator.authenticate(t))).toBe('accepted');
    vi.setSystemTime((T + 10 + TOL - 1) * 1000);
    // Past exp but inside the tolerance: the cache and the verifier agree.
    expect(await outcome(() => authenticator.authenticate(t))).toBe('accepted');
    vi.setSystemTime((T + 10 + TOL) * 1000);
    const out = await outcome(() => authenticator.authenticate(t));
    expect(isAuthError(out) && (out as { code: string }).code).toBe('ERR_TOKEN_EXPIRED');
    expect(authenticator.cached(t)).toBeUndefined();
  });
});
