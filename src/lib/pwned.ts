import { encodeHex, encodeUtf8 } from "./crypto/encoding.ts";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface PwnedOptions {
  /** Base URL of the Pwned Passwords API, e.g. https://api.pwnedpasswords.com */
  baseUrl: string;
  timeoutMs: number;
  fetch: FetchLike;
}

export type PwnedVerdict = { checked: true; breached: boolean } | { checked: false; reason: string };

// k-anonymity range query: only the first 5 hex characters of the password's SHA-1 leave the Worker,
// and Add-Padding makes every answer about the same size, so neither the service nor an observer of
// the response length learns the password. The caller decides what "not checked" means (we fail open).
export async function checkPwnedPassword(password: string, options: PwnedOptions): Promise<PwnedVerdict> {
  const digest = encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-1", encodeUtf8(password)))).toUpperCase();
  const prefix = digest.slice(0, 5);
  const suffix = digest.slice(5);
  let body: string;
  try {
    const res = await options.fetch(`${options.baseUrl.replace(/\/+$/, "")}/range/${prefix}`, {
      headers: { "Add-Padding": "true" },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!res.ok) return { checked: false, reason: `status ${res.status}` };
    body = await res.text();
  } catch (err) {
    return { checked: false, reason: err instanceof Error ? err.name : "error" };
  }
  for (const line of body.split("\n")) {
    const [candidate, count] = line.trim().split(":");
    // Padding rows have a count of 0: they are not breached passwords.
    if (candidate?.toUpperCase() === suffix && Number(count) > 0) return { checked: true, breached: true };
  }
  return { checked: true, breached: false };
}
