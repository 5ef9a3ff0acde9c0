import { decodeBase64Url, encodeBase64Url } from "./encoding.ts";

const encoder = new TextEncoder();

// A key of its own per purpose (outbox payloads, TOTP secrets), derived from a server secret so a
// copy of the database alone reveals neither the token links waiting in the outbox nor the secrets.
export async function deriveSealKey(secret: string, purpose: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(`edge-auth ${purpose}`) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

// v2 binds the ciphertext to `additionalData` (AES-GCM associated data), so a payload opens only in
// the context it was sealed for: the outbox passes the row and its recipient. v1 payloads, sealed
// without it, still open so mail queued before v2 is delivered; none is written any more.
export async function seal(key: CryptoKey, plaintext: string, additionalData = ""): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const params = { name: "AES-GCM", iv, additionalData: encoder.encode(additionalData) };
  const sealed = await crypto.subtle.encrypt(params, key, encoder.encode(plaintext));
  return `v2.${encodeBase64Url(iv)}.${encodeBase64Url(new Uint8Array(sealed))}`;
}

export async function unseal(key: CryptoKey, sealed: string, additionalData = ""): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if ((version !== "v1" && version !== "v2") || !iv || !data) throw new Error("unknown sealed payload format");
  const bound = version === "v2" ? { additionalData: encoder.encode(additionalData) } : {};
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: decodeBase64Url(iv), ...bound }, key, decodeBase64Url(data));
  return new TextDecoder().decode(plain);
}
