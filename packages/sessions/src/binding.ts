/**
 * IP binding: exact, or same subnet (a prefix per family), IPv4 and IPv6.
 * IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`, what Node reports on a
 * dual-stack socket) are compared as IPv4.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** How an address is compared with the one the session was created from. */
export type IpBindingMode = 'exact' | 'subnet' | 'detect';

/** The `bindIp` option. */
export interface IpBindingOptions {
  /**
   * `'exact'`: the same address; `'subnet'`: the same network (see the prefixes);
   * `'detect'`: compare exactly, but on a mismatch only publish
   * `stratacache:sessions:binding-mismatch` and return the session with a warning.
   */
  mode: IpBindingMode;
  /** Network prefix length for IPv4 in `'subnet'` mode. @default 24 */
  ipv4Prefix?: number;
  /** Network prefix length for IPv6 in `'subnet'` mode. @default 64 */
  ipv6Prefix?: number;
}

/** A normalised address and its family, or undefined when `ip` is not an address. */
export function normalizeIp(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  if (typeof ip !== 'string') return undefined;
  let address = ip.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) address = mapped[1] as string;
  const version = isIP(address);
  if (version === 4) return { address, family: 'ipv4' };
  if (version === 6) return { address: address.toLowerCase(), family: 'ipv6' };
  return undefined;
}

/** True when `candidate` matches `stored` under `mode` with the given prefixes. */
export function ipMatches(stored: string, candidate: string, mode: IpBindingMode, v4: number, v6: number): boolean {
  const a = normalizeIp(stored);
  const b = normalizeIp(candidate);
  if (!a || !b || a.family !== b.family) return false;
  const list = new BlockList();
  if (mode === 'subnet') list.addSubnet(a.address, a.family === 'ipv4' ? v4 : v6, a.family);
  else list.addAddress(a.address, a.family);
  return list.check(b.address, b.family);
}

/** The bytes of a normalised address (4 for IPv4, 16 for IPv6). */
export function ipBytes(address: string, family: 'ipv4' | 'ipv6'): Buffer {
  if (family === 'ipv4') return Buffer.from(address.split('.').map(Number));
  let text = address.split('%')[0] as string; // drop a zone id (fe80::1%eth0)
  // A trailing dotted quad (64:ff9b::192.0.2.1) is two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/**
 * What an IP binding compares: the address, or its network when `bits` is
 * shorter than the address, as `family/bits/hex`. Undefined for a non-address.
 */
export function ipBindingMaterial(ip: string, v4Bits: number, v6Bits: number): string | undefined {
  const parsed = normalizeIp(ip);
  if (!parsed) return undefined;
  const bytes = ipBytes(parsed.address, parsed.family);
  const bits = parsed.family === 'ipv4' ? v4Bits : v6Bits;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${parsed.family}/${bits}/${bytes.toString('hex')}`;
}

/**
 * The IP binding tag stored with a session and compared by the read script:
 * an HMAC (under the session's secret) of the address, or of its network in
 * `'subnet'` mode. Not an address: a random tag, which matches nothing (not
 * even the same junk string again).
 */
export function ipBindingTag(secret: Buffer, ip: string, binding: Required<IpBindingOptions> | undefined): string {
  const { ipv4Prefix, ipv6Prefix, mode } = binding ?? { ipv4Prefix: 32, ipv6Prefix: 128, mode: 'exact' };
  const material = mode === 'subnet' ? ipBindingMaterial(ip, ipv4Prefix, ipv6Prefix) : ipBindingMaterial(ip, 32, 128);
  if (material === undefined) return randomBytes(32).toString('base64url');
  return createHmac('sha256', secret).update(`ip\0${material}`).digest('base64url');
}

/** The user-agent binding tag: an HMAC (under the session's secret) of the user agent's hash. */
export function uaBindingTag(secret: Buffer, uaHash: string): string {
  return createHmac('sha256', secret).update(`ua\0${uaHash}`).digest('base64url');
}
