import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc } from '../proto/index.js';
import { makeKey } from '../server/fixtures.test.js';
import { isLoopbackHost, jwksFromAuthService, jwksFromUri } from './sources.js';

let http: Server;
let base = '';
let jwksJson = '';

beforeAll(async () => {
  jwksJson = JSON.stringify({ keys: [(await makeKey('EdDSA', 'a')).jwk] });
  http = createServer((req, res) => {
    if (req.url === '/jwks.json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(jwksJson);
    if (req.url === '/huge') {
      res.writeHead(200); // no content-length: the reader must stop by itself
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 8; i++) res.write(chunk);
      return void res.end();
    }
    if (req.url === '/redirect') return void res.writeHead(302, { location: '/jwks.json' }).end();
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(jwksJson), 2000);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
});

describe('jwksFromUri', () => {
  it('fetches a JWKS', async () => {
    expect((await jwksFromUri(`${base}/jwks.json`)()).keys[0]?.kid).toBe('a');
  });
  it('refuses bodies over maxBytes, redirects, errors and slow servers', async () => {
    await expect(jwksFromUri(`${base}/huge`, { maxBytes: 100_000 })()).rejects.toThrow(/maxBytes/);
    await expect(jwksFromUri(`${base}/redirect`)()).rejects.toThrow();
    await expect(jwksFromUri(`${base}/missing`)()).rejects.toThrow(/HTTP 404/);
    await expect(jwksFromUri(`${base}/slow`, { timeoutMs: 100 })()).rejects.toThrow();
  });
  it('needs https off loopback', () => {
    expect(() => jwksFromUri('http://auth.example.com/jwks.json')).toThrow(/^url: /);
    expect(() => jwksFromUri('https://auth.example.com/jwks.json')).not.toThrow();
    expect(() => jwksFromUri('nope')).toThrow(/^url: /);
    expect(() =>
      jwksFromUri('http://auth:8080/.well-known/jwks.json', { allowInsecureHttp: true }),
    ).not.toThrow();
  });
});

describe('jwksFromAuthService', () => {
  it('calls GetJwks and parses keys_json', async () => {
    const server = new grpc.Server();
    server.addService(authGrpc().authmesh.v1.AuthService.service, {
      GetJwks: (_c: unknown, cb: grpc.sendUnaryData<{ keys_json: string }>) =>
        cb(null, { keys_json: jwksJson }),
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    const source = jwksFromAuthService(`127.0.0.1:${port}`);
    try {
      expect((await source()).keys[0]?.kid).toBe('a');
    } finally {
      source.close();
      server.forceShutdown();
    }
  });
  it('fails (does not hang) when the auth service is down', async () => {
    const source = jwksFromAuthService('127.0.0.1:1', undefined, { timeoutMs: 500 });
    try {
      await expect(source()).rejects.toThrow(/GetJwks failed/);
    } finally {
      source.close();
    }
  });
  it('plaintext only on loopback unless credentials are passed', () => {
    expect(() => jwksFromAuthService('auth:50051')).toThrow(/^credentials: /);
    expect(() => jwksFromAuthService('auth:50051', grpc.credentials.createInsecure()).close()).not.toThrow();
    expect(isLoopbackHost('127.0.0.1') && isLoopbackHost('[::1]') && isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
});
