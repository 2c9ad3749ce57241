// A loopback TCP proxy whose upstream can be cut three ways: `refuse` (connections are reset at once, like
// a dead process), `blackhole` (connections are accepted and held, nothing is forwarded, like a
// partition or a hung host) and `drop-answers` (requests still reach the upstream, its answers are
// swallowed and kept in `dropped`: a lost answer). Used to make the auth service unreachable for one echo
// only, and to lose a Refresh answer. With `localAddress`, the proxy connects to the upstream from that
// source address (e.g. 127.0.0.2): the upstream sees another peer.
import net from 'node:net';

/** How the proxy treats connections. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole' | 'drop-answers';

/** A running proxy. */
export interface TcpProxy {
  readonly address: string;
  mode: ProxyMode;
  /** The upstream's bytes swallowed in `drop-answers` mode, in order. */
  readonly dropped: Buffer[];
  /** Drops every open connection (forces clients to reconnect under the current mode). */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `upstream` ("host:port") on 127.0.0.1:0. */
export async function startProxy(
  upstream: string,
  options: { localAddress?: string } = {},
): Promise<TcpProxy> {
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
    dropped: [],
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
    const up = net.connect({
      port,
      host,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    track(up);
    client.pipe(up);
    // Checked per chunk, so switching to drop-answers takes effect on connections already open.
    up.on('data', (chunk: Buffer) => {
      if (proxy.mode === 'drop-answers') proxy.dropped.push(chunk);
      else client.write(chunk);
    });
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { address: string }).address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
