import { base64url } from "jose";

// Encodings and a constant-time compare, from what the bundle already carries (jose, workerd).

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** Throws on bytes that are not valid UTF-8 (fatal decoder), rather than inventing U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/**
 * Decodes unpadded base64url, strictly: only the one canonical spelling of each byte string is
 * accepted (jose's decoder is lenient), so two different strings never decode to the same bytes.
 */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const bytes = base64url.decode(text);
  if (base64url.encode(bytes) !== text) throw new Error("invalid base64url");
  return bytes as Uint8Array<ArrayBuffer>;
}

export function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares secrets in constant time with workerd's crypto.subtle.timingSafeEqual. Strings are
 * compared as their UTF-8 bytes. Lengths are not secret (hashes and tokens have fixed, public
 * lengths), but a mismatch still costs one comparison, so it is no shortcut either.
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  // workerd's extension of SubtleCrypto (typed by workers-types, not by the DOM types the tools use).
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
  const left = typeof a === "string" ? encodeUtf8(a) : a;
  const right = typeof b === "string" ? encodeUtf8(b) : b;
  if (left.byteLength !== right.byteLength) {
    subtle.timingSafeEqual(left, left);
    return false;
  }
  return subtle.timingSafeEqual(left, right);
}

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encodeUtf8(text)));
}

export async function sha256Hex(text: string): Promise<string> {
  return encodeHex(await sha256(text));
}
