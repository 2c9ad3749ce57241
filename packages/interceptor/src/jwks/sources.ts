import * as grpc from '@grpc/grpc-js';
import type { JSONWebKeySet } from 'jose';
import { authGrpc } from '../proto/index.js';
import { EVENT_KEYS_MEMBER, type JwksDocument, type JwksSource } from './key-store.types.js';

/** A JwksSource that holds a connection; `KeyStore.close()` closes it. */
export type ClosableJwksSource = JwksSource & { close(): void };

/** Options of the network JWKS sources. */
export interface JwksFetchOptions {
  /** Deadline of one fetch, ms. Default 5000. */
  timeoutMs?: number;
  /** Largest JWKS accepted, bytes. Default 262144 (256 KiB). */
  maxBytes?: number;
}

function parseFetchOptions(options: JwksFetchOptions): { timeoutMs: number; maxBytes: number } {
  const { timeoutMs = 5000, maxBytes = 256 * 1024 } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs: must be a number > 0');
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError('maxBytes: must be an integer > 0');
  return { timeoutMs, maxBytes };
}

/** True for hosts that never leave the machine: the only place plaintext is the default. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function targetHost(target: string): string {
  const t = target.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(t) ?? /^([^:]+)(?::\d+)?$/.exec(t);
  return m?.[1] ?? t;
}

function parseJwks(text: string, maxBytes: number): JSONWebKeySet {
  if (Buffer.byteLength(text) > maxBytes) throw new Error('JWKS larger than maxBytes');
  const jwks: unknown = JSON.parse(text);
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new Error('JWKS has no "keys" array');
  }
  return jwks as JSONWebKeySet;
}

/**
 * JWKS from the auth service's `GetJwks` RPC (`keys_json`). Without `credentials`, plaintext is used
 * for loopback targets only; anything else needs credentials passed explicitly (a forged JWKS would
 * let anyone mint tokens), e.g. `grpc.credentials.createSsl()` or, knowingly, `createInsecure()`.
 */
export function jwksFromAuthService(
  target: string,
  credentials?: grpc.ChannelCredentials,
  options: JwksFetchOptions = {},
): ClosableJwksSource {
  if (typeof target !== 'string' || target === '') throw new TypeError('target: must be a host:port string');
  if (credentials === undefined && !isLoopbackHost(targetHost(target))) {
    throw new TypeError(`credentials: required for the non-loopback auth target ${target}`);
  }
  const { timeoutMs, maxBytes } = parseFetchOptions(options);
  let client: InstanceType<ReturnType<typeof authGrpc>['authmesh']['v1']['AuthService']> | undefined;
  const source = (): Promise<JwksDocument> =>
    new Promise((resolve, reject) => {
      client ??= new (authGrpc().authmesh.v1.AuthService)(
        target,
        credentials ?? grpc.credentials.createInsecure(),
      );
      client.GetJwks({}, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) return reject(new Error(`GetJwks failed: ${err?.code ?? 'no response'}`));
        try {
          const jwks: JwksDocument = parseJwks(res.keys_json, maxBytes);
          // Withdrawn keys, for revocation events only (an older auth service sends none).
          if (res.event_keys_json) jwks[EVENT_KEYS_MEMBER] = parseJwks(res.event_keys_json, maxBytes).keys;
          resolve(jwks);
        } catch (e) {
          reject(e);
        }
      });
    });
  return Object.assign(source, {
    close() {
      client?.close();
      client = undefined;
    },
  });
}

/**
 * JWKS from an HTTP `jwks_uri` (node fetch): https, or http on loopback only unless
 * `allowInsecureHttp` (a forged JWKS would let anyone mint tokens); redirects refused; bounded in
 * time and size.
 */
export function jwksFromUri(
  url: string,
  options: JwksFetchOptions & { allowInsecureHttp?: boolean } = {},
): JwksSource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('url: not a valid URL');
  }
  const httpOk =
    parsed.protocol === 'http:' && (isLoopbackHost(parsed.hostname) || options.allowInsecureHttp === true);
  if (parsed.protocol !== 'https:' && !httpOk) {
    throw new TypeError('url: must be https (http only on loopback, or with allowInsecureHttp)');
  }
  const { timeoutMs, maxBytes } = parseFetchOptions(options);
  return async () => {
    const res = await fetch(parsed, {
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
    if (res.status !== 200 || !res.body) throw new Error(`JWKS fetch failed: HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await res.body.cancel();
      throw new Error('JWKS larger than maxBytes');
    }
    // Read in chunks so a huge or endless body stops at maxBytes, whatever content-length claimed.
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new Error('JWKS larger than maxBytes');
      chunks.push(chunk);
    }
    return parseJwks(Buffer.concat(chunks).toString('utf8'), maxBytes);
  };
}
