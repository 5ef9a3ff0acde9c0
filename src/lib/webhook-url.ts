import { isLoopbackHost } from "./loopback.ts";

// Where a webhook may be sent. The service posts to URLs that someone else typed, so a URL that
// reaches the service's own machine or network (SSRF: a cloud metadata address, an internal admin
// page) is refused when the endpoint is created or configured, and again before each send.
//
// Only what can be told from the URL itself is checked: IP literals in every range that is not
// globally routable, and names that can only be local (localhost, *.local, *.internal, single
// labels). A public name whose DNS points at a private address is not caught here; a Worker's fetch
// leaves through Cloudflare's network, which does not reach the deployment's private networks.

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface WebhookUrlPolicy {
  /** Development and test: http and https to this machine (localhost, 127.x, [::1]) are allowed. */
  allowLoopback: boolean;
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp", ".localdomain"];

/** Why a URL may not receive webhooks, or null when it may. */
export function webhookUrlProblem(raw: string, policy: WebhookUrlPolicy): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  if (policy.allowLoopback && isLoopbackHost(url.host)) {
    return url.protocol === "https:" || url.protocol === "http:" ? null : "must use https";
  }
  if (url.protocol !== "https:") return policy.allowLoopback ? "must use https (or http to localhost)" : "must use https";
  // The URL parser has already canonicalised the host: lower case, IPv4 in dotted decimal whatever
  // form it was typed in (0x7f.1, 2130706433), IPv6 compressed in brackets.
  const host = url.hostname.replace(/\.+$/, "");
  if (host.startsWith("[")) return isGlobalIpv6(host.slice(1, -1)) ? null : "must not point at a private, loopback or link-local address";
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return isGlobalIpv4(host) ? null : "must not point at a private, loopback or link-local address";
  if (host === "localhost" || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) return "must not point at a local name";
  if (!host.includes(".")) return "must be a fully qualified name";
  return null;
}

// RFC 6890 and its successors: every IPv4 block that is not globally reachable.
const PRIVATE_V4: Array<[string, number]> = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function v4ToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

export function isGlobalIpv4(ip: string): boolean {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const n = v4ToNumber(ip);
  return !PRIVATE_V4.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(v4ToNumber(base) / 2 ** (32 - bits)));
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail allowed), or null. */
function ipv6Groups(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const n = v4ToNumber(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.some(Number.isNaN) ? null : groups;
}

export function isGlobalIpv6(ip: string): boolean {
  const g = ipv6Groups(ip);
  if (!g) return false;
  const v4At = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return false; // ::
  if (zeros(7) && g[7] === 1) return false; // ::1
  if (zeros(5) && g[5] === 0xffff) return isGlobalIpv4(v4At(g[6]!, g[7]!)); // ::ffff:a.b.c.d (mapped)
  if (zeros(6)) return isGlobalIpv4(v4At(g[6]!, g[7]!)); // ::a.b.c.d (compatible, deprecated)
  const zeroFrom = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (g[0] === 0x64 && g[1] === 0xff9b) return zeroFrom(2, 6) && isGlobalIpv4(v4At(g[6]!, g[7]!)); // NAT64; 64:ff9b:1::/48 is local
  if (g[0] === 0x2002) return isGlobalIpv4(v4At(g[1]!, g[2]!)); // 6to4 carries an IPv4 address
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (g[0] === 0x3fff && g[1]! < 0x1000) return false; // documentation (RFC 9637)
  if (g[0] === 0x2001 && g[1]! < 0x0200) return false; // IETF protocol assignments (Teredo, ORCHID, ...)
  if (g[0] === 0x0100 && zeroFrom(1, 4)) return false; // discard
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0) return false; // link-local, site-local
  if ((first & 0xff00) === 0xff00) return false; // multicast
  // Only 2000::/3 is allocated as global unicast.
  return (first & 0xe000) === 0x2000;
}
