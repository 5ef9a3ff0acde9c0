// The keys a client's POSTs are counted under (src/http/ip-budget.ts spends them).
import { ipv6Groups } from "../lib/client-summary.ts";

// One IPv6 subscriber usually holds a whole /64 (and a site a /48): count the prefix, or rotating
// addresses would escape the limit.
export function ipCounterKey(ip: string | null, ipv6PrefixGroups: 3 | 4 = 4): string {
  if (!ip) return "ip:unknown";
  // IPv4, also when written IPv4-mapped (::ffff:192.0.2.1).
  if (ip.includes(".") || !ip.includes(":")) return `ip:${ip.slice(ip.lastIndexOf(":") + 1, ip.lastIndexOf(":") + 65)}`;
  return `ip:${ipv6Groups(ip).slice(0, ipv6PrefixGroups).join(":")}::/${ipv6PrefixGroups * 16}`;
}

/** The budget keys of a client: its address (IPv6: /64), and for IPv6 also its /48. */
export function ipBudgetKeys(ip: string | null): string[] {
  const own = ipCounterKey(ip);
  return own.endsWith("::/64") ? [own, ipCounterKey(ip, 3)] : [own];
}
