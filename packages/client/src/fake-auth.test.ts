import * as grpc from '@grpc/grpc-js';
import { authGrpc, type AuthServiceHandlers } from './proto/index.js';

/** What the fake AuthService saw and how it answers; tests change `mode` and `expiresIn` on the fly. */
export interface FakeAuth {
  target: string;
  calls: { method: string; request: unknown; authorization: string | undefined }[];
  /** Calls answered so far (the answer is on its way to the client). */
  answered: number;
  mode: 'ok' | 'unavailable' | 'refresh-dead';
  expiresIn: number;
  /** Delay before answering, ms. */
  delayMs: number;
  stop(): Promise<void>;
}

/** An in-process AuthService on 127.0.0.1:0 that mints opaque numbered tokens. */
export async function startFakeAuth(): Promise<FakeAuth> {
  const server = new grpc.Server();
  let n = 0;
  const fake: FakeAuth = {
    target: '',
    calls: [],
    answered: 0,
    mode: 'ok',
    expiresIn: 300,
    delayMs: 0,
    stop: () => new Promise((r) => server.tryShutdown(() => r())),
  };
  const handle =
    (method: string, answer: (req: any) => object | grpc.status): grpc.handleUnaryCall<any, any> =>
    (call, callback) => {
      const auth = call.metadata.get('authorization')[0];
      fake.calls.push({
        method,
        request: call.request,
        authorization: typeof auth === 'string' ? auth : undefined,
      });
      setTimeout(() => {
        fake.answered++;
        if (fake.mode === 'unavailable') return callback({ code: grpc.status.UNAVAILABLE, details: 'down' });
        const res = answer(call.request);
        if (typeof res === 'number') callback({ code: res, details: 'no' });
        else callback(null, res);
      }, fake.delayMs);
    };
  const token = (kind: string) => ({
    access_token: `${kind}-${++n}`,
    token_type: 'Bearer',
    expires_in: fake.expiresIn,
    refresh_token: kind === 'cc' || kind === 'ex' ? '' : `rt-${n}`,
    refresh_expires_in: 3600,
    scope: 'a b',
  });
  const handlers: AuthServiceHandlers = {
    IssueToken: handle('IssueToken', (req) => token(req.grant === 'password' ? 'pw' : 'cc')),
    Refresh: handle('Refresh', () =>
      fake.mode === 'refresh-dead' ? grpc.status.UNAUTHENTICATED : token('rf'),
    ),
    ExchangeToken: handle('ExchangeToken', (req) => ({
      ...token('ex'),
      access_token: `ex-${req.audience}-${++n}`,
    })),
    Revoke: handle('Revoke', () => grpc.status.UNIMPLEMENTED),
    GetJwks: handle('GetJwks', () => ({ keys_json: '{"keys":[]}' })),
    GetMeshStatus: handle('GetMeshStatus', () => grpc.status.UNIMPLEMENTED),
    GetMeshKey: handle('GetMeshKey', () => grpc.status.UNIMPLEMENTED),
  };
  server.addService(authGrpc().authmesh.v1.AuthService.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  fake.target = `127.0.0.1:${port}`;
  return fake;
}

// This file is named *.test.ts so the build (which excludes tests) never ships the fake.
import { describe, expect, it } from 'vitest';

describe('fake AuthService (test helper)', () => {
  it('answers IssueToken and records the call', async () => {
    const fake = await startFakeAuth();
    const client = new (authGrpc().authmesh.v1.AuthService)(fake.target, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<any>((resolve, reject) =>
        client.IssueToken({ client_credentials: { client_id: 'c', client_secret: 's' } }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      );
      expect(res.access_token).toBe('cc-1');
      expect(fake.calls.map((c) => c.method)).toEqual(['IssueToken']);
    } finally {
      client.close();
      await fake.stop();
    }
  });
});
