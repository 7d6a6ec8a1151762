/**
 * Which webhook URLs a destination may subscribe, and which addresses a delivery may connect to.
 *
 * Rules (docs/operations.md#alerts):
 *  - http or https only, no user:password in the URL (the HMAC signature authenticates us);
 *  - never link-local, metadata or unspecified/multicast addresses (169.254.0.0/16 with the cloud
 *    metadata service 169.254.169.254, fe80::/10, fd00:ec2::254, 100.100.100.200, 0.0.0.0, ::,
 *    metadata.google.internal ...): checked on the URL when subscribing and again on every address DNS
 *    returns at delivery time, so a name that later resolves there is refused too;
 *  - loopback and private addresses (127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, 100.64/10 CGNAT,
 *    fc00::/7, `localhost`) only when ALERT_ALLOW_PRIVATE_URLS is true (on-premises alert relays): by
 *    default a subscriber cannot make the workers post into the service's own network. Checked on the
 *    URL and on every address DNS returns, like the metadata ranges;
 *  - when ALERT_WEBHOOK_ALLOWED_HOSTS is set, only those hosts (`hooks.example.com`, or `*.example.com`
 *    for subdomains).
 */
import net from 'node:net';
import { AppError } from '../errors';

const BLOCKED_HOSTNAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
]);

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function inV4(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(base) & mask);
}

const BLOCKED_V4 = ['0.0.0.0/8', '169.254.0.0/16', '100.100.100.200/32', '224.0.0.0/4', '240.0.0.0/4'];

const PRIVATE_V4 = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

/**
 * Which receivers a webhook may target: the allowed hosts (empty = any public host), and whether
 * private and loopback addresses are allowed too (off unless the operator says so).
 */
export interface WebhookHostPolicy {
  allowedHosts: string[];
  allowPrivate?: boolean;
}

export function webhookHostPolicy(alerts: { allowedHosts: string[]; allowPrivateUrls: boolean }): WebhookHostPolicy {
  return { allowedHosts: [...alerts.allowedHosts], allowPrivate: alerts.allowPrivateUrls };
}

/** The 8 groups of an IPv6 address (handles `::` and a trailing dotted IPv4), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v = ipv4ToInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** True for loopback and private addresses (allowed only with ALERT_ALLOW_PRIVATE_URLS). */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIPv4(ip)) return PRIVATE_V4.some((c) => inV4(ip, c));
  if (!net.isIPv6(ip)) return false;
  const g = ipv6Groups(ip);
  if (!g) return false;
  const v4 = embeddedV4(g);
  if (v4) return PRIVATE_V4.some((c) => inV4(v4, c));
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  return (g[0] & 0xfe00) === 0xfc00; // unique local fc00::/7
}

/** The IPv4 inside an IPv6 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d). */
function embeddedV4(g: number[]): string | undefined {
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (
    (zeros(5) && g[5] === 0xffff) ||
    (zeros(6) && (g[6] !== 0 || g[7] > 1)) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
  ) {
    return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
  }
  return undefined;
}

/** True for addresses a webhook delivery must never reach (private ones too unless `allowPrivate`). */
export function isBlockedAddress(address: string, options: { allowPrivate?: boolean } = { allowPrivate: true }): boolean {
  if (!options.allowPrivate && isPrivateAddress(address)) return true;
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIPv4(ip)) return BLOCKED_V4.some((c) => inV4(ip, c));
  if (!net.isIPv6(ip)) return false;
  const g = ipv6Groups(ip);
  if (!g) return true; // unparseable: refuse
  // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d): judge the IPv4.
  const v4 = embeddedV4(g);
  if (v4) return BLOCKED_V4.some((c) => inV4(v4, c));
  if (g.every((x) => x === 0)) return true; // ::
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return true; // AWS IPv6 metadata
  if ((g[0] & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast ff00::/8
  return false;
}

function hostAllowed(host: string, allowedHosts: string[]): boolean {
  if (!allowedHosts.length) return true;
  return allowedHosts.some((a) => {
    const rule = a.toLowerCase();
    return rule.startsWith('*.') ? host.endsWith(rule.slice(1)) && host.length > rule.length - 1 : host === rule;
  });
}

/** The host part of a URL, for messages and logs (paths and queries may hold a receiver's secret). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

/** Throws `ALERT_URL_NOT_ALLOWED` (422) when the URL may not be subscribed. */
export function assertWebhookUrl(url: string, policy: WebhookHostPolicy): URL {
  const { allowedHosts } = policy;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError('ALERT_URL_NOT_ALLOWED', 'The webhook URL is not a valid absolute URL.');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new AppError('ALERT_URL_NOT_ALLOWED', 'The webhook URL must use http or https.');
  if (u.username || u.password)
    throw new AppError(
      'ALERT_URL_NOT_ALLOWED',
      'The webhook URL must not carry credentials; verify the X-Destination-Signature header instead.',
    );
  const host = u.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (BLOCKED_HOSTNAMES.has(host) || isBlockedAddress(host)) {
    throw new AppError('ALERT_URL_NOT_ALLOWED', `Webhooks cannot be sent to ${host}: link-local and cloud metadata addresses are blocked.`);
  }
  if (!hostAllowed(host, allowedHosts)) {
    throw new AppError('ALERT_URL_NOT_ALLOWED', `Webhook host ${host} is not in ALERT_WEBHOOK_ALLOWED_HOSTS (${allowedHosts.join(', ')}).`);
  }
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))) {
    throw new AppError(
      'ALERT_URL_NOT_ALLOWED',
      `Webhooks cannot be sent to ${host}: loopback and private addresses are refused unless the operator sets ALERT_ALLOW_PRIVATE_URLS=true.`,
    );
  }
  return u;
}
