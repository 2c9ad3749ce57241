// A loopback TCP proxy whose upstream can be cut two ways: `refuse` (connections are reset at once, like
// a dead process) and `blackhole` (connections are accepted and held, nothing is forwarded, like a
// partition or a hung host). Used to make the auth service unreachable for one echo only.
import net from 'node:net';

/** How the proxy treats connections. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

/** A running proxy. */
export interface TcpProxy {
  readonly address: string;
  mode: ProxyMode;
  /** Drops every open connection (forces clients to reconnect under the current mode). */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `upstream` ("host:port") on 127.0.0.1:0. */
export async function startProxy(upstream: string): Promise<TcpProxy> {
  const [host, port] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1)),
  ];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const proxy: TcpProxy = {
    address: '',
    mode: 'forward',
    cut() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    track(client);
    if (proxy.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (proxy.mode === 'blackhole') return; // held open, never answered
    const up = net.connect(port, host);
    track(up);
    client.pipe(up);
    up.pipe(client);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { address: string }).address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
