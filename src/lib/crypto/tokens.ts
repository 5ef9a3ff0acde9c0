import { encodeBase64Url, encodeHex, encodeUtf8 } from "./encoding.ts";

const TOKEN_BYTES = 32;
export const TOKEN_LENGTH = 43;
// 32 bytes are 43 base64url characters; the last one carries 4 data bits and 2 zero bits, so only
// 16 characters can end a canonical token.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** 256 random bits as unpadded base64url (43 characters). Send it to the user; store hashToken(). */
export function generateToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

/**
 * SHA-256 of the token as 64 hex characters: what the database stores, so a leaked table holds no
 * usable tokens. A fast hash is enough because the token has 256 bits of entropy. Hex (not
 * base64url) keeps stored hashes visibly different from tokens.
 */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encodeUtf8(token));
  return encodeHex(new Uint8Array(digest));
}

/** Exact shape check so garbage is refused before any hashing or database work. */
export function isWellFormedToken(value: unknown): value is string {
  return typeof value === "string" && TOKEN_PATTERN.test(value);
}

export function randomId(): string {
  return crypto.randomUUID();
}
