/**
 * The client address of an HTTP request, as a rate limiter must see it.
 *
 * Behind proxies the socket's peer is the proxy; the client is in
 * `X-Forwarded-For`, which anyone can also write. So only the entries added by
 * proxies you trust are believed: walking the list from the right (the socket
 * peer, then what each proxy appended), the first address that is not a
 * trusted proxy is the client. `trustProxy` says which hops are trusted: a
 * count (the last N hops, as Express's `trust proxy = N`), or a list of
 * addresses and CIDR ranges (checked with `node:net`'s BlockList). `false`
 * takes the address the framework computed (`req.ip`, which follows the
 * framework's own trust setting).
 *
 * IPv6 clients usually hold a whole prefix (a /56 or /64 per home or VM), so
 * keying each address separately lets one client rotate through millions of
 * keys: addresses are keyed by their `ipv6Subnet` prefix.
 */
import { BlockList, isIP } from 'node:net';

/** Which proxies are trusted: `false` (the framework's `req.ip`), a hop count, or addresses and CIDR ranges. */
export type TrustProxy = false | number | readonly string[];

/** A BlockList of the trusted proxies (built once per middleware). */
export function trustedProxies(list: readonly string[]): BlockList {
  const blocks = new BlockList();
  for (const entry of list) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an IP address or CIDR range: ${JSON.stringify(entry)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) blocks.addAddress(address, type);
    else blocks.addSubnet(address, Number(bits), type);
  }
  return blocks;
}

/** `::ffff:203.0.113.7` -> `203.0.113.7`; other addresses unchanged. */
export function unmapIpv4(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * The client address: `framework` (the framework's `req.ip`) when `trust` is
 * false, else the first untrusted hop of `forwardedFor` + `peer` from the right.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  framework: string | undefined,
  trust: false | number | BlockList,
): string | undefined {
  if (trust === false) return framework ?? peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const chain = header
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop.length > 0);
  if (peer !== undefined) chain.push(peer);
  if (chain.length === 0) return undefined;
  if (typeof trust === 'number') {
    // The socket peer is hop 0; trusting N hops believes N entries of the header.
    return unmapIpv4(chain[Math.max(0, chain.length - 1 - trust)] as string);
  }
  let nearest: string | undefined;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = unmapIpv4(chain[i] as string);
    const family = isIP(hop);
    // Something that is not an address cannot be a client a proxy saw: keep the nearest real hop.
    if (family === 0) return nearest;
    if (!trust.check(hop, family === 4 ? 'ipv4' : 'ipv6')) return hop;
    nearest = hop;
  }
  return nearest; // every hop is a trusted proxy: the leftmost one
}

/** The rate-limit key of an address: IPv4 as is, IPv6 by its `/bits` prefix in full form. */
export function addressKey(address: string, ipv6Subnet: number): string {
  const plain = unmapIpv4(address);
  if (isIP(plain) !== 6) return plain;
  const groups = expandIpv6(plain);
  let left = ipv6Subnet;
  const masked = groups.map((group) => {
    const keep = Math.max(0, Math.min(16, left));
    left -= 16;
    return keep === 0 ? 0 : group & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${ipv6Subnet}`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, embedded IPv4 converted). */
function expandIpv6(address: string): number[] {
  let text = address.split('%')[0] as string;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => Number.parseInt(g, 16));
}
