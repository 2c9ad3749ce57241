import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyManager } from '../keys/key-manager.types.js';
import { discoveryDocument, JWKS_PATH } from './discovery.js';

/** What the HTTP endpoints read. */
export interface HttpDeps {
  keys: Pick<KeyManager, 'jwks' | 'jwksJson' | 'onChange'>;
  /** The issuer (final only once the HTTP server is bound, when it follows the HTTP address). */
  issuer: () => string;
  /** Named readiness checks; `/readyz` is 200 only when all are true. */
  readiness: () => Record<string, boolean>;
  /** `AUTHMESH_ENV` in effect, shown by `/readyz` (`"mode":"production"`). */
  mode?: string;
  /** Prometheus text exposition; `/metrics` is 404 without it. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

/** max-age of the JWKS: short, so a withdrawn key leaves caches soon (new keys are published ahead anyway). */
const JWKS_MAX_AGE = 60;

/**
 * The request handler of the auth service's HTTP side: well-known documents, health, readiness, metrics.
 * Never throws: every failure is a short status, nothing of the request is echoed.
 */
export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  let discovery: { issuer: string; json: string } | undefined;
  // Discovery lists the algorithms of the published keys: rebuild when the ring changes.
  deps.keys.onChange(() => (discovery = undefined));
  const discoveryJson = (): string => {
    const issuer = deps.issuer();
    if (discovery?.issuer !== issuer)
      discovery = { issuer, json: JSON.stringify(discoveryDocument(issuer, deps.keys.jwks())) };
    return discovery.json;
  };

  const routes: Record<string, (res: ServerResponse, head: boolean) => void | Promise<void>> = {
    [JWKS_PATH]: (res, head) =>
      send(res, 200, deps.keys.jwksJson(), 'application/jwk-set+json', head, JWKS_MAX_AGE),
    '/.well-known/openid-configuration': (res, head) =>
      send(res, 200, discoveryJson(), 'application/json', head, 300),
    '/.well-known/oauth-authorization-server': (res, head) =>
      send(res, 200, discoveryJson(), 'application/json', head, 300),
    '/healthz': (res, head) => send(res, 200, '{"status":"ok"}', 'application/json', head),
    '/readyz': (res, head) => {
      const checks = deps.readiness();
      const ready = Object.values(checks).every(Boolean);
      send(
        res,
        ready ? 200 : 503,
        JSON.stringify({
          status: ready ? 'ready' : 'not ready',
          ...(deps.mode !== undefined ? { mode: deps.mode } : {}),
          checks,
        }),
        'application/json',
        head,
      );
    },
    '/metrics': async (res, head) => {
      if (!deps.metrics) return send(res, 404, '{"error":"not found"}', 'application/json', head);
      const m = await deps.metrics();
      send(res, 200, m.body, m.contentType, head);
    },
  };

  return (req, res) => {
    try {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) return send(res, 404, '{"error":"not found"}', 'application/json', req.method === 'HEAD');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(res, 405, '{"error":"method not allowed"}', 'application/json', false);
      }
      Promise.resolve(route(res, req.method === 'HEAD')).catch(() => fail(res));
    } catch {
      fail(res);
    }
  };
}

function fail(res: ServerResponse): void {
  if (!res.headersSent) send(res, 500, '{"error":"internal error"}', 'application/json', false);
  else res.destroy();
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  head: boolean,
  maxAge?: number,
): void {
  res.statusCode = status;
  res.setHeader(
    'content-type',
    type.includes('charset') || type.startsWith('text/') ? type : `${type}; charset=utf-8`,
  );
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', maxAge === undefined ? 'no-store' : `public, max-age=${maxAge}`);
  res.setHeader('x-content-type-options', 'nosniff');
  // Public keys and metadata: any origin may read them (browser-side validators).
  if (maxAge !== undefined) res.setHeader('access-control-allow-origin', '*');
  res.end(head ? undefined : body);
}
