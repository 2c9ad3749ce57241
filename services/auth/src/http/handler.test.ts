import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from './handler.js';
import { startHttpServer, type HttpServer } from './server.js';

const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k1', alg: 'EdDSA', use: 'sig' }] };
let ready = false;
let server: HttpServer;

beforeAll(async () => {
  server = await startHttpServer(
    { host: '127.0.0.1', port: 0 },
    createHttpHandler({
      keys: { jwks: () => jwks, jwksJson: () => JSON.stringify(jwks), onChange: () => () => undefined },
      issuer: () => `http://${server.address}`,
      readiness: () => ({ nats: ready, keys: true }),
    }),
  );
});
afterAll(() => server?.close());

const get = (path: string, init?: RequestInit) => fetch(`http://${server.address}${path}`, init);

describe('auth HTTP endpoints', () => {
  it('serves the JWKS with a short max-age, and discovery pointing at it', async () => {
    const res = await get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    expect(await res.json()).toEqual(jwks);
    const doc = (await (await get('/.well-known/openid-configuration?x=1')).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toEqual({
      issuer: `http://${server.address}`,
      jwks_uri: `http://${server.address}/.well-known/jwks.json`,
      grant_types_supported: expect.arrayContaining(['client_credentials']),
      access_token_signing_alg_values_supported: ['EdDSA'],
    });
    expect(doc).not.toHaveProperty('id_token_signing_alg_values_supported');
  });

  it('health, readiness, 404, 405, HEAD', async () => {
    expect((await get('/healthz')).status).toBe(200);
    ready = false;
    const r1 = await get('/readyz');
    expect(r1.status).toBe(503);
    expect(await r1.json()).toEqual({ status: 'not ready', checks: { nats: false, keys: true } });
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
    expect((await get('/nope')).status).toBe(404);
    const post = await get('/healthz', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/.well-known/jwks.json', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers garbage with 400 and keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(server.address.split(':')[1]), '127.0.0.1');
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.end('NOT HTTP AT ALL\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await get('/healthz')).status).toBe(200);
  });
});
