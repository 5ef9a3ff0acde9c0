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
 * HMAC-SHA-256 of the token as 64 hex characters: what the database stores, so a leaked table holds
 * no usable tokens, and write access to the database alone cannot plant one (the key is derived
 * from a Worker secret, like the password pepper). A fast MAC is enough because the token has 256
 * bits of entropy. Hex (not base64url) keeps stored hashes visibly different from tokens.
 */
export async function hashToken(key: CryptoKey, token: string): Promise<string> {
  return encodeHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encodeUtf8(token))));
}

/** The HMAC key for hashToken, derived from a server secret; import once per isolate. */
export async function deriveTokenKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encodeUtf8(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encodeUtf8("edge-auth token hash v1") },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/** A short code to type from a mail (unlock): `digits` decimal digits, uniformly drawn. */
export function generateCode(digits = 6): string {
  const limit = 10 ** digits;
  // Rejection sampling: 2^32 is not a multiple of 10^digits, so the top of the range is redrawn.
  const ceiling = Math.floor(0x1_0000_0000 / limit) * limit;
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1));
    if (value! < ceiling) return String(value! % limit).padStart(digits, "0");
  }
}

/** Exact shape check so garbage is refused before any hashing or database work. */
export function isWellFormedToken(value: unknown): value is string {
  return typeof value === "string" && TOKEN_PATTERN.test(value);
}

export function randomId(): string {
  return crypto.randomUUID();
}
