// Property-based tests of the verifier and the cached authenticator (in-process): no exception other
// than an AuthError ever escapes, a mutated token is never accepted unless it is byte-identical to the
// original, and whatever is accepted satisfies the token rules (RFC 9068 §4, RFC 8725 §3).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAuthError } from '@authmesh/interceptor';
import { apply, mutations } from './mutations.js';
import {
  ISSUER,
  KID,
  RUNS,
  authenticator,
  goodClaims,
  goodHeader,
  outcome,
  signRaw,
  timeoutFor,
  verify,
} from './setup.js';

const valid = signRaw(goodHeader, goodClaims());
const other = signRaw(goodHeader, { ...goodClaims(), sub: 'mallory', scope: 'echo:admin' });

function tally(): { accepted: number; rejected: number; byCode: Map<string, number> } {
  return { accepted: 0, rejected: 0, byCode: new Map() };
}

describe('fuzz: mutations of a valid token', () => {
  it(
    'the verifier accepts a mutation only when it is byte-identical; every rejection is an AuthError',
    { timeout: timeoutFor(RUNS, 2) },
    async () => {
      expect(await outcome(() => verify(valid))).toBe('accepted');
      const t = tally();
      const t0 = performance.now();
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          const m = ms.reduce((tok, mu) => apply(tok, mu, other), valid);
          const out = await outcome(() => verify(m));
          // Splicing every segment of the other genuine token yields that token: also byte-identical.
          if (m === valid || m === other) {
            expect(out).toBe('accepted');
            t.accepted++;
          } else {
            expect(
              isAuthError(out),
              `mutation accepted or threw a non-AuthError: ${JSON.stringify(ms)} → ${String(out)}`,
            ).toBe(true);
            t.rejected++;
            const code = (out as { code: string }).code;
            t.byCode.set(code, (t.byCode.get(code) ?? 0) + 1);
          }
        }),
        { numRuns: RUNS },
      );
      console.log(
        `[fuzz] verifier: ${RUNS} mutations in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${t.rejected} rejected (${[...t.byCode].map(([k, v]) => `${k} ${v}`).join(', ')}), ${t.accepted} identical and accepted`,
      );
      expect(t.rejected).toBeGreaterThan(RUNS * 0.9);
    },
  );

  it(
    'the authenticator (cache warm with the valid token) never serves a mutation from the cache',
    { timeout: timeoutFor(RUNS, 2) },
    async () => {
      await authenticator.authenticate(valid);
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          const m = ms.reduce((tok, mu) => apply(tok, mu, other), valid);
          const out = await outcome(() => authenticator.authenticate(m));
          if (m === valid || m === other) expect(out).toBe('accepted');
          else expect(isAuthError(out), JSON.stringify(ms)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(
    'arbitrary strings (any unicode, and base64url-looking dotted strings) are rejected with an AuthError',
    { timeout: timeoutFor(RUNS, 2) },
    async () => {
      const b64ish = fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_.'), maxLength: 200 });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 5 },
            { arbitrary: b64ish, weight: 5 },
            // Past the 8 KB cap (rarer: long strings are slow to generate).
            {
              arbitrary: fc.string({
                minLength: 8000,
                maxLength: 9000,
                unit: fc.constantFrom('A', '.', '-'),
              }),
              weight: 1,
            },
          ),
          async (s) => {
            const out = await outcome(() => verify(s));
            expect(isAuthError(out)).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
    },
  );
});

// Every claim and header member is genuine most of the time, sometimes absent, sometimes any JSON value,
// so the accepting region is reached and its border explored.
const json = fc.jsonValue({ maxDepth: 3 });
/** The genuine value most of the time; otherwise a near miss, absent, or any JSON value. */
function vary<T>(genuine: T, ...misses: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constant(genuine), weight: 30 },
    ...misses.map((m) => ({ arbitrary: fc.constant(m), weight: 1 })),
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: json, weight: 1 },
  );
}
const now = () => Math.floor(Date.now() / 1000);
const time = (min: number, max: number) => fc.integer({ min, max }).map((d) => now() + d);
const claimsArb = fc.record({
  iss: vary(ISSUER, `${ISSUER}/`, 'https://evil.test', ISSUER.toUpperCase()),
  sub: vary('alice', '', 7),
  aud: fc.oneof(
    { arbitrary: fc.constant<unknown>('echo'), weight: 20 },
    { arbitrary: vary(['x', 'echo'], ['x'], [], 'ECHO', ['echo', 1]), weight: 3 },
  ),
  exp: fc.oneof({ arbitrary: time(-20, 600), weight: 20 }, { arbitrary: vary(0, 'x', null, -1), weight: 1 }),
  iat: fc.oneof({ arbitrary: time(-60, 20), weight: 20 }, { arbitrary: vary(0, 'x', null), weight: 1 }),
  nbf: fc.oneof(
    { arbitrary: time(-60, 20), weight: 20 },
    { arbitrary: vary(undefined, 'x', null), weight: 1 },
  ),
  jti: vary('j1', '', 1),
  client_id: vary('cli', '', ['cli']),
  scope: vary('echo:read', '', ['echo:read']),
  roles: vary(['dev'], [], 'dev', [1]),
  act: vary(undefined, { sub: 'svc' }, { sub: '' }, 'svc'),
});
const headerArb = fc.record({
  alg: vary('EdDSA', 'none', 'ES256', 'HS256', 'Ed25519', 'eddsa'),
  kid: vary(KID, '', 'other'),
  typ: vary('at+jwt', 'AT+JWT', 'application/at+jwt', 'JWT', 'at+jwt ', 'application/jwt'),
  extra: fc.option(
    fc.tuple(fc.constantFrom('jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64', 'cty', 'zip', 'x-any'), json),
    { freq: 4 },
  ),
});

const drop = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const str = (v: unknown) => typeof v === 'string' && v !== '';

describe('fuzz: arbitrary headers and claims signed by the trusted key', () => {
  it(
    'whatever is accepted satisfies the access-token rules; nothing but AuthError escapes',
    { timeout: timeoutFor(RUNS, 2) },
    async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(headerArb, claimsArb, async (h, c) => {
          const { extra, ...hh } = h;
          const header = drop({ ...hh, ...(extra ? { [extra[0]]: extra[1] } : {}) });
          const claims = drop(c);
          const out = await outcome(() => verify(signRaw(header, claims)));
          if (out !== 'accepted') {
            expect(isAuthError(out)).toBe(true);
            return;
          }
          accepted++;
          const t = Math.floor(Date.now() / 1000);
          // RFC 8725 §3.1, RFC 9068 §4: the allowed alg, the access-token typ, no key-bearing or crit headers.
          expect(header.alg).toBe('EdDSA');
          expect(['at+jwt', 'application/at+jwt']).toContain(String(header.typ).toLowerCase());
          for (const k of ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64']) expect(header).not.toHaveProperty(k);
          expect(header.kid).toBe(KID);
          // RFC 7519 §4.1, RFC 9068 §2.2.
          expect(claims.iss).toBe(ISSUER);
          const aud = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud as unknown[]);
          expect(aud).toContain('echo');
          expect(claims.exp as number).toBeGreaterThan(t - 5 - 1);
          expect(claims.iat as number).toBeLessThanOrEqual(t + 5 + 1);
          if (claims.nbf !== undefined) expect(claims.nbf as number).toBeLessThanOrEqual(t + 5 + 1);
          expect(str(claims.sub) && str(claims.jti) && str(claims.client_id)).toBe(true);
          if (claims.scope !== undefined) expect(typeof claims.scope).toBe('string');
          if (claims.roles !== undefined)
            expect(Array.isArray(claims.roles) && (claims.roles as unknown[]).every(str)).toBe(true);
        }),
        { numRuns: RUNS },
      );
      console.log(`[fuzz] structured: ${accepted} of ${RUNS} accepted, every one within the rules`);
      // The arbitraries reach the accepting region (so the property is not vacuous).
      if (RUNS >= 1000) expect(accepted).toBeGreaterThan(RUNS / 50);
    },
  );
});
