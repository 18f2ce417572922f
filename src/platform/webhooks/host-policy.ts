// Where outbound webhooks may go. A host must be in WEBHOOK_ALLOWED_HOSTS: named exactly (a host name
// or an IP literal), matched by `*.domain`, or by `*` (any host). Hosts matched only by a wildcard must
// resolve to public addresses: loopback, private, link-local, CGNAT, multicast and unspecified
// addresses are refused unless the host is listed by name or address. The check is made on the
// addresses the connection actually uses (a lookup hook), so DNS rebinding cannot slip past it.
import dns from 'node:dns';
import net, { BlockList } from 'node:net';

const nonPublic = new BlockList();
for (const [a, p] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  nonPublic.addSubnet(a, p, 'ipv4');
}
for (const [a, p] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) nonPublic.addSubnet(a, p, 'ipv6');

/** True for addresses a webhook reached only through a wildcard must not connect to. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return nonPublic.check(mapped[1], 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return nonPublic.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type HostMatch = 'listed' | 'wildcard' | null;

export function matchHost(host: string, allowed: string[]): HostMatch {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const list = allowed.map((a) => a.replace(/^\[|\]$/g, ''));
  if (list.includes(h)) return 'listed';
  if (list.some((a) => a.startsWith('*.') && h.endsWith(a.slice(1)) && net.isIP(h) === 0)) return 'wildcard';
  if (list.includes('*')) return 'wildcard';
  return null;
}

/** Why `url` may not receive webhooks, or null when it may (the address check is made again on connect). */
export function refuseUrl(url: URL, allowed: string[]): string | null {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `webhook URLs must be http or https, got ${url.protocol}`;
  if (url.username || url.password) return 'webhook URLs must not carry credentials';
  const match = matchHost(url.hostname, allowed);
  if (!match) return `host ${url.hostname} is not in WEBHOOK_ALLOWED_HOSTS`;
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (match === 'wildcard' && net.isIP(literal) && isNonPublicAddress(literal)) return `address ${literal} is loopback, private or link-local and not listed in WEBHOOK_ALLOWED_HOSTS`;
  return null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that refuses non-public addresses of hosts matched only by a wildcard. */
export function guardedLookup(match: HostMatch) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const usable = match === 'listed' ? addresses : addresses.filter((a) => !isNonPublicAddress(a.address));
      if (!usable.length) {
        const e = new Error(`host ${hostname} resolves only to loopback, private or link-local addresses, which WEBHOOK_ALLOWED_HOSTS does not list`) as NodeJS.ErrnoException;
        e.code = 'EWEBHOOKHOST';
        return callback(e, []);
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0].address, usable[0].family);
    });
  };
}
