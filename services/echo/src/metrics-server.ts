import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A bound metrics endpoint: its address and how to close it. */
export interface MetricsServer {
  /** `host:port` actually bound (port 0 picks one). */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) from `registry` on `addr` (`host:port`). */
export async function startMetricsServer(addr: string, registry: Registry): Promise<MetricsServer> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(i + 1));
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const p = typeof bound === 'object' && bound ? bound.port : port;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${p}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
