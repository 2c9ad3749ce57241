// Graceful shutdown under load: SIGTERM while calls are in flight. Echo: every open stream (already
// answering when the signal lands) completes with all its messages and OK; unary calls end OK or
// are refused UNAVAILABLE, nothing else; exit code 0. Auth: logins under load end OK or UNAVAILABLE,
// calls in flight at the signal complete OK, exit code 0.
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { PASSWORD, call } from './support/mesh.js';
import { meshSuite } from './support/mesh-suite.js';

const suite = meshSuite({ issuer: 'http://auth.ops-shutdown.test' });

/** `loops` concurrent loops of `fn` until `stop()`; each result with its start and end time. */
function load(loops: number, fn: () => Promise<{ code: number }>) {
  const results: { code: number; start: number; end: number }[] = [];
  let running = true;
  const done = Promise.all(
    Array.from({ length: loops }, async () => {
      // Bounded: at most 2000 calls per loop even if stop() never came.
      for (let i = 0; running && i < 2000; i++) {
        const start = performance.now();
        const r = await fn();
        results.push({ code: r.code, start, end: performance.now() });
        if (r.code !== 0) await new Promise((res) => setTimeout(res, 5));
      }
    }),
  );
  return { results, stop: () => ((running = false), done) };
}

describe('graceful shutdown under load', () => {
  it('echo: SIGTERM lets open streams and in-flight calls finish, refuses new ones, exits 0', async () => {
    const token = await suite.mesh.clientToken('svc');
    const echo = suite.mesh.echoes[0]!;
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const streams = Array.from({ length: 20 }, () => {
      const s = (
        echo.client as unknown as {
          StreamWhoAmI(req: object, md: grpc.Metadata): grpc.ClientReadableStream<unknown>;
        }
      ).StreamWhoAmI({ count: 5, interval_ms: 200 }, md);
      let messages = 0;
      let first!: () => void;
      const started = new Promise<void>((r) => (first = r));
      const ended = new Promise<{ code: number; messages: number }>((resolve) => {
        s.on('data', () => {
          messages++;
          first();
        });
        s.on('status', (st: grpc.StatusObject) => resolve({ code: st.code, messages }));
        s.on('error', () => undefined); // the status event carries the outcome
      });
      return { started, ended };
    });
    await Promise.all(streams.map((s) => s.started));
    const unary = load(16, () => call(echo.client, 'WhoAmI', {}, token));
    await new Promise((r) => setTimeout(r, 200));
    const signalAt = performance.now();
    const exit = echo.proc.stop(10_000);
    const outcomes = await Promise.all(streams.map((s) => s.ended));
    const code = await exit;
    await unary.stop();

    expect(code).toBe(0);
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ code: 0, messages: 5 })));
    const codes = new Set(unary.results.map((r) => r.code));
    expect(
      [...codes].every((c) => c === 0 || c === grpc.status.UNAVAILABLE),
      `codes ${[...codes]}`,
    ).toBe(true);
    expect(unary.results.filter((r) => r.code === 0 && r.start < signalAt).length).toBeGreaterThan(0);
    // After the exit nothing answers.
    expect(
      (await call(echo.client, 'Ping', { message: 'x' }, undefined, { deadlineMs: 1000 })).code,
    ).not.toBe(0);
  }, 30_000);

  it('auth: SIGTERM under login load completes the calls in flight and exits 0', async () => {
    // 4 at a time: a login's failure budget (AUTHMESH_LOGIN_MAX_FAILURES, 5 per user and peer) is
    // reserved before the hash, so more concurrent logins of one user from one address are throttled.
    const logins = load(4, () =>
      suite.mesh.authCall('IssueToken', {
        password: { username: 'alice', password: PASSWORD },
        audience: ['echo'],
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const signalAt = performance.now();
    const code = await suite.mesh.auth.stop(10_000);
    await logins.stop();

    expect(code).toBe(0);
    const codes = new Set(logins.results.map((r) => r.code));
    expect(
      [...codes].every((c) => c === 0 || c === grpc.status.UNAVAILABLE),
      `codes ${[...codes]}`,
    ).toBe(true);
    // Calls in flight when the signal landed were answered OK after it.
    expect(
      logins.results.filter((r) => r.code === 0 && r.start < signalAt && r.end > signalAt).length,
    ).toBeGreaterThan(0);
    expect(logins.results.filter((r) => r.code === 0).length).toBeGreaterThan(8);
  }, 30_000);
});
