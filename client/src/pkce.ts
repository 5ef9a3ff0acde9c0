// PKCE (RFC 7636, S256) for confirming a registration: the registering browser keeps a random
// verifier and sends only its hash; posting the verifier with the mailed token proves that the
// confirmer is the browser that registered, without asking for the password again.

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** 32 random bytes in base64url: 43 characters of A-Z a-z 0-9 - _ (the server takes 43–128 of A-Z a-z 0-9 - . _ ~). */
export function createVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The code_challenge for a verifier: base64url(SHA-256(verifier)). */
export async function challengeFor(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}
