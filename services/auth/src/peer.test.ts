import { describe, expect, it } from 'vitest';
import { normalize, parseTrustedProxies, peerAddress, PeerResolver } from './peer.js';

describe('peer addresses for throttling', () => {
  it('takes the address out of grpc-js peer strings', () => {
    expect(peerAddress('ipv4:127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerAddress('ipv6:[::1]:5000')).toBe('::1');
    expect(peerAddress('ipv6:[2001:db8::1]:443')).toBe('2001:db8::1');
  });

  it('counts IPv6 per /64 and IPv4-mapped IPv6 as IPv4', () => {
    expect(normalize('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(normalize('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(normalize('2001:DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(normalize('::1')).toBe('0:0:0:0::/64');
    expect(normalize('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(normalize('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(normalize('10.0.0.7')).toBe('10.0.0.7');
    const r = new PeerResolver();
    expect(r.resolve('ipv6:[2001:db8:1:2::5]:1')).toBe(r.resolve('ipv6:[2001:db8:1:2:ffff::9]:2'));
    expect(r.resolve('ipv6:[2001:db8:1:2::5]:1')).not.toBe(r.resolve('ipv6:[2001:db8:1:3::5]:1'));
  });

  it('ignores x-forwarded-for unless the connection comes from a trusted proxy', () => {
    const none = new PeerResolver();
    expect(none.resolve('ipv4:203.0.113.9:1', ['198.51.100.1'])).toBe('203.0.113.9');
    const r = new PeerResolver(['10.0.0.0/8', '::1']);
    expect(r.resolve('ipv4:203.0.113.9:1', ['198.51.100.1'])).toBe('203.0.113.9');
    expect(r.resolve('ipv4:10.1.2.3:1', ['198.51.100.1'])).toBe('198.51.100.1');
    expect(r.resolve('ipv6:[::1]:1', ['2001:db8:5:6::1'])).toBe('2001:db8:5:6::/64');
    // Right to left past trusted hops; a client-written left part cannot choose the address.
    expect(r.resolve('ipv4:10.1.2.3:1', ['1.1.1.1, 198.51.100.1, 10.9.9.9'])).toBe('198.51.100.1');
    expect(r.resolve('ipv4:10.1.2.3:1', ['1.1.1.1', '198.51.100.2'])).toBe('198.51.100.2');
    // Garbage, or no header: the proxy itself is the peer.
    expect(r.resolve('ipv4:10.1.2.3:1', ['not-an-ip'])).toBe('10.1.2.3');
    expect(r.resolve('ipv4:10.1.2.3:1', [])).toBe('10.1.2.3');
    expect(r.resolve('ipv4:10.1.2.3:1', ['[2001:db8::1]:443'])).toBe('2001:db8:0:0::/64');
  });

  it('validates AUTHMESH_TRUSTED_PROXIES entries', () => {
    expect(parseTrustedProxies(' 10.0.0.0/8, 127.0.0.1 ,fd00::/8')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
    ]);
    expect(parseTrustedProxies('')).toEqual([]);
    for (const bad of ['proxy.local', '10.0.0.0/33', '::/129', '10.0.0.1/8/1', '10.0.0.0/x'])
      expect(() => parseTrustedProxies(bad)).toThrow(/not an IP address or CIDR range/);
  });
});
