import { BlockList, isIP } from 'node:net';

/**
 * Who is on the other end of a call, as the login throttle counts it: the connection's address, or,
 * when that address is a trusted proxy (`AUTHMESH_TRUSTED_PROXIES`), the client address the proxy put
 * in `x-forwarded-for`. IPv6 addresses count per /64 (one subscriber usually holds a whole /64), and
 * IPv4-mapped IPv6 as IPv4.
 */
export class PeerResolver {
  private readonly trusted: BlockList | undefined;

  /** `trustedProxies`: IP addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`), validated by `parseTrustedProxies`. */
  constructor(trustedProxies: readonly string[] = []) {
    if (trustedProxies.length === 0) {
      this.trusted = undefined;
      return;
    }
    const list = new BlockList();
    for (const entry of trustedProxies) {
      const { address, prefix, family } = parseRange(entry);
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, prefix, family);
    }
    this.trusted = list;
  }

  /**
   * The throttling key of a caller: `grpcPeer` as grpc-js reports it (`ipv4:10.0.0.1:5000`,
   * `ipv6:[::1]:5000`), and the `x-forwarded-for` values of the call (only read behind a trusted proxy).
   */
  resolve(grpcPeer: string, forwardedFor: readonly string[] = []): string {
    let address = unmap(peerAddress(grpcPeer));
    if (this.isTrusted(address)) {
      // Walk the header right to left (the nearest hop last): the first address not of a trusted
      // proxy is the client. Anything unparsable stops the walk: the last trusted hop is the peer.
      const hops = forwardedFor.flatMap((v) => v.split(',')).map((h) => h.trim());
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = unmap(stripPort(hops[i]!));
        if (isIP(hop) === 0) break;
        address = hop;
        if (!this.isTrusted(hop)) break;
      }
    }
    return normalize(address);
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return (
      this.trusted !== undefined &&
      family !== 0 &&
      this.trusted.check(address, family === 4 ? 'ipv4' : 'ipv6')
    );
  }
}

/** Validates `AUTHMESH_TRUSTED_PROXIES` entries; throws a TypeError naming the bad one. */
export function parseTrustedProxies(text: string): string[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) parseRange(entry);
  return entries;
}

function parseRange(entry: string): { address: string; prefix: number | undefined; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText, ...rest] = entry.split('/');
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  if (
    version === 0 ||
    rest.length > 0 ||
    (prefix !== undefined && (!/^\d{1,3}$/.test(prefixText!) || prefix > max))
  ) {
    throw new TypeError(`"${entry}" is not an IP address or CIDR range`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The address part of a grpc-js peer string (`ipv4:127.0.0.1:5000` → `127.0.0.1`, `ipv6:[::1]:5000` → `::1`). */
export function peerAddress(peer: string): string {
  return stripPort(peer.replace(/^(ipv4|ipv6|unix):/, ''));
}

function stripPort(hostPort: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (bracketed) return bracketed[1]!;
  const lastColon = hostPort.lastIndexOf(':');
  // One colon: IPv4 (or a name) with a port. Several: a bare IPv6 address, no port.
  return lastColon > 0 && hostPort.indexOf(':') === lastColon ? hostPort.slice(0, lastColon) : hostPort;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; the zone of a link-local address dropped. */
function unmap(address: string): string {
  const withoutZone = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone);
  return mapped ? mapped[1]! : withoutZone;
}

/** IPv4 as is; IPv6 as its /64 (`2001:db8:1:2::/64`); anything else (a unix socket path) as is. */
export function normalize(address: string): string {
  const plain = unmap(address);
  if (isIP(plain) !== 6) return plain;
  const groups = expandIPv6(plain);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
