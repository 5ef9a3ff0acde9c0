const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

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
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decodes unpadded base64url. Strict: only the base64url alphabet, no padding, and only the one
 * canonical spelling of each byte string (so two different strings never decode to the same bytes).
 * Throws on anything else.
 */
export function decodeBase64Url(text: string): Uint8Array {
  if (!BASE64URL_PATTERN.test(text) || text.length % 4 === 1) {
    throw new Error("invalid base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (encodeBase64Url(bytes) !== text) throw new Error("invalid base64url");
  return bytes;
}

export function encodeHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares secrets without a content-dependent early exit. Strings are compared as their UTF-8
 * bytes. Lengths are not treated as secret (hashes and tokens have fixed, public lengths), but a
 * length mismatch still does one comparison's worth of work so it is not a shortcut either.
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const left = typeof a === "string" ? encodeUtf8(a) : a;
  const right = typeof b === "string" ? encodeUtf8(b) : b;
  if (left.byteLength !== right.byteLength) {
    compareBytes(left, left);
    return false;
  }
  return compareBytes(left, right);
}

function compareBytes(a: Uint8Array, b: Uint8Array): boolean {
  // workerd exposes a constant-time compare on crypto.subtle (non-standard); use it when present.
  const subtle = crypto.subtle as { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") {
    return subtle.timingSafeEqual.call(crypto.subtle, a, b);
  }
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
