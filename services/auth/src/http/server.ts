import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config.js';

/** A listening HTTP server. */
export interface HttpServer {
  /** The bound address (`127.0.0.1:40124`), after port 0 was resolved. */
  readonly address: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts node:http on `addr`; malformed requests get a 400 and a closed socket, never a crash. */
export async function startHttpServer(
  addr: ListenAddress,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpServer> {
  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16_384 },
    handler,
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address =
    bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  return {
    address,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
