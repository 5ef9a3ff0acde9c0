// The WebAuthn relying party: which domain passkeys belong to, and which pages may use them. Both
// come from configuration, never from a request's Host, so a request cannot choose the domain its
// assertion is checked against.

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Why an RP ID cannot be used as written, or null: checked with the settings. A single label
 * (com, dev) is a public suffix; the longer ones (co.uk, workers.dev) are found by
 * publicSuffixProblem, which needs the Public Suffix List. `localhost` is allowed outside
 * production (browsers treat it as a secure context).
 */
export function relyingPartyProblem(rpId: string, environment: "production" | "development" | "test"): string | null {
  if (rpId !== rpId.toLowerCase() || rpId.endsWith(".") || /[/:@\s]/.test(rpId)) {
    return "must be a lower-case domain name alone (no scheme, port, path or trailing dot)";
  }
  if (rpId === "localhost") return environment === "production" ? "is localhost, which only works on this machine" : null;
  if (/^\d+(\.\d+){3}$/.test(rpId)) return "is an IP address; passkeys need a domain name";
  if (!rpId.includes(".")) return "is a public suffix (shared by unrelated sites); use your own domain";
  if (!rpId.split(".").every((label) => LABEL.test(label))) return "is not a domain name";
  return null;
}

/**
 * Why an RP ID is a public suffix (co.uk, workers.dev, pages.dev, …, from the Public Suffix List
 * including its private section), or null. Such a suffix is shared by strangers: passkeys scoped to
 * it would be usable by every site under it, and browsers refuse it anyway. Asked by the first
 * passkey ceremony rather than with the settings: tldts builds its list when loaded, ~8 ms of CPU
 * that every isolate's start-up paid, passkeys or not.
 */
export async function publicSuffixProblem(rpId: string): Promise<string | null> {
  if (rpId === "localhost") return null;
  const { parse } = await import("tldts");
  const info = parse(rpId, { allowPrivateDomains: true });
  if (info.publicSuffix === rpId) return "is a public suffix (shared by unrelated sites); use your own domain";
  if (!info.domain || info.hostname !== rpId) return "is not a domain name";
  return null;
}

/** Whether a page at `origin` may use passkeys of `rpId`: its host is the RP ID or under it. */
export function originUnderRelyingParty(origin: string, rpId: string): boolean {
  if (!URL.canParse(origin)) return false;
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
}
