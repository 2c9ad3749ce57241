// Property-based tests of the metadata → token parser (bearerToken) and of the whole interceptor on a
// real in-process grpc-js server: no exception escapes, every refusal is UNAUTHENTICATED, and only a
// byte-identical genuine token gets through.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerAuth, isAuthError, type ServerAuth } from '@authmesh/interceptor';
import { echoGrpc, echoPackageDefinition, type EchoClient } from '@authmesh/proto';
import { bearerToken } from '../../packages/interceptor/src/server/interceptor.js';
import { apply, mutations } from './mutations.js';
import { ISSUER, RUNS, goodClaims, goodHeader, keyStore, outcome, signRaw, timeoutFor } from './setup.js';

const valid = signRaw(goodHeader, goodClaims());
const other = signRaw(goodHeader, { ...goodClaims(), sub: 'mallory' });

describe('fuzz: bearerToken(metadata)', () => {
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc
      .tuple(
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer:', ''),
        fc.constantFrom(' ', '  ', '', '\t'),
        fc.constantFrom(valid, '', ' ', 'x.y.z'),
        fc.string({ maxLength: 3 }),
      )
      .map((p) => p.join('')),
  );
  it('returns a trimmed, non-empty token only for a single "Bearer <token>" value; otherwise undefined or an AuthError', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(value, fc.uint8Array({ maxLength: 20 })), { maxLength: 3 }), (values) => {
        const md = new grpc.Metadata();
        // The server builds Metadata from the wire without validation; add the values the same way.
        for (const v of values)
          (md as unknown as { internalRepr: Map<string, unknown[]> }).internalRepr.set('authorization', [
            ...(md.get('authorization') as unknown[]),
            typeof v === 'string' ? v : Buffer.from(v),
          ]);
        let out: unknown;
        try {
          out = bearerToken(md, 8192);
        } catch (err) {
          expect(isAuthError(err), String(err)).toBe(true);
          return;
        }
        if (values.length === 0) {
          expect(out).toBeUndefined();
          return;
        }
        expect(values.length).toBe(1);
        const v = values[0] as string;
        expect(typeof out).toBe('string');
        expect(out).toBe((out as string).trim());
        expect((out as string).length).toBeGreaterThan(0);
        expect(v.slice(0, 7).toLowerCase()).toBe('bearer ');
      }),
      { numRuns: RUNS },
    );
  });
  it('refuses two authorization values even when both are genuine (neither grpc-js nor node:http2 can send them)', () => {
    const md = new grpc.Metadata();
    (md as unknown as { internalRepr: Map<string, unknown[]> }).internalRepr.set('authorization', [
      `Bearer ${valid}`,
      `Bearer ${valid}`,
    ]);
    expect(() => bearerToken(md, 8192)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
  });
});

describe('fuzz: the interceptor on a real grpc-js server', () => {
  let server: grpc.Server;
  let auth: ServerAuth;
  let client: EchoClient;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    auth = createServerAuth({
      issuer: ISSUER,
      audience: 'echo',
      jwks: { keyStore },
      revocations: { allowInsecureNoRevocations: true },
      packageDefinition: echoPackageDefinition(),
      logger: { error: (o: object) => unexpected.push(o) },
    });
    server = new grpc.Server({ interceptors: [auth.interceptor] });
    server.addService(echoGrpc().echo.v1.Echo.service, {
      Ping: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { message: 'pong' }),
      WhoAmI: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { sub: 'x' }),
      Admin: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}),
      Relay: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}),
      StreamWhoAmI: (c: grpc.ServerWritableStream<object, object>) => c.end(),
    } as never);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    await auth.ready();
    client = new (echoGrpc().echo.v1.Echo)(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as EchoClient;
  });
  afterAll(async () => {
    (client as unknown as grpc.Client | undefined)?.close();
    server?.forceShutdown();
    await auth?.close();
  });

  const whoAmI = (value: string) =>
    new Promise<number>((resolve) => {
      const md = new grpc.Metadata();
      md.set('authorization', value);
      (client.WhoAmI as Function).call(
        client,
        {},
        md,
        { deadline: Date.now() + 5000 },
        (err: grpc.ServiceError | null) => resolve(err ? err.code : 0),
      );
    });

  // Over the network each case costs ~1 ms, so this property is capped (the verifier properties carry the volume).
  const runs = Math.min(RUNS, 2000);
  it(
    'mutated tokens: UNAUTHENTICATED unless byte-identical to a genuine token; no INTERNAL, no logged surprise',
    { timeout: timeoutFor(runs, 3) },
    async () => {
      expect(await whoAmI(`Bearer ${valid}`)).toBe(0);
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          const m = ms.reduce((t, mu) => apply(t, mu, other), valid);
          // grpc-js refuses to send non-printable metadata; those are covered by bearerToken above and the raw HTTP/2 rows of the attack corpus.
          fc.pre(/^[ -~]*$/.test(m));
          const code = await whoAmI(`Bearer ${m}`);
          if (m.trim() === valid || m.trim() === other) expect(code).toBe(0);
          else expect(code, JSON.stringify(ms)).toBe(grpc.status.UNAUTHENTICATED);
        }),
        { numRuns: runs },
      );
      expect(unexpected).toEqual([]);
      expect(
        await outcome(async () => {
          if (await whoAmI(`Bearer ${valid}`)) throw new Error('down');
        }),
      ).toBe('accepted');
    },
  );
});
