import { parse } from "tldts";

// The WebAuthn relying party: which domain passkeys belong to, and which pages may use them. Both
// come from configuration, never from a request's Host, so a request cannot choose the domain its
// assertion is checked against.

/**
 * Why an RP ID cannot be used, or null. A public suffix (com, co.uk, workers.dev, pages.dev, …,
 * from the Public Suffix List including its private section) is shared by strangers: passkeys
 * scoped to it would be usable by every site under it, and browsers refuse it anyway.
 * `localhost` is allowed outside production (browsers treat it as a secure context).
 */
export function relyingPartyProblem(rpId: string, environment: "production" | "development" | "test"): string | null {
  if (rpId !== rpId.toLowerCase() || rpId.endsWith(".") || /[/:@\s]/.test(rpId)) {
    return "must be a lower-case domain name alone (no scheme, port, path or trailing dot)";
  }
  if (rpId === "localhost") return environment === "production" ? "is localhost, which only works on this machine" : null;
  const info = parse(rpId, { allowPrivateDomains: true });
  if (info.isIp) return "is an IP address; passkeys need a domain name";
  if (info.publicSuffix === rpId || !rpId.includes(".")) return "is a public suffix (shared by unrelated sites); use your own domain";
  if (!info.domain || info.hostname !== rpId) return "is not a domain name";
  return null;
}

/** Whether a page at `origin` may use passkeys of `rpId`: its host is the RP ID or under it. */
export function originUnderRelyingParty(origin: string, rpId: string): boolean {
  if (!URL.canParse(origin)) return false;
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}
