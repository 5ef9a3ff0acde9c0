// A software authenticator for the Worker tests: it makes what a browser and a security key would
// send (ES256 credential, "none" attestation), written out here with Web Crypto and a few lines of
// CBOR, independently of the library the Worker verifies with.
import { encodeBase64Url } from "../../src/lib/crypto/encoding.ts";

// CBOR (RFC 8949), just the types WebAuthn needs: unsigned and negative integers, byte and text
// strings, maps.
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  return [(major << 5) | 25, length >> 8, length & 0xff];
}
function cbor(value: Cbor): number[] {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    return [...head(3, bytes.length), ...bytes];
  }
  if (value instanceof Uint8Array) return [...head(2, value.length), ...value];
  return [...head(5, value.size), ...[...value].flatMap(([k, v]) => [...cbor(k), ...cbor(v)])];
}

const sha256 = async (data: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

// Web Crypto signs ECDSA as r||s; WebAuthn carries it DER-encoded.
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.slice(i);
    const body = trimmed[0]! & 0x80 ? concat(new Uint8Array([0]), trimmed) : trimmed;
    return concat(new Uint8Array([0x02, body.length]), body);
  };
  const seq = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(new Uint8Array([0x30, seq.length]), seq);
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface SoftAuthenticatorOptions {
  rpId: string;
  origin: string;
  /** Sign counter start; 0 means the authenticator keeps none (like synced passkeys). */
  counter?: number;
}

export async function softAuthenticator(options: SoftAuthenticatorOptions) {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", keys.publicKey)) as JsonWebKey;
  const credentialId = crypto.getRandomValues(new Uint8Array(32));
  const id = encodeBase64Url(credentialId);
  let counter = options.counter ?? 0;
  const rpIdHash = await sha256(new TextEncoder().encode(options.rpId));
  const coseKey = new Map<Cbor, Cbor>([
    [1, 2], // kty: EC2
    [3, -7], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, Uint8Array.from(atob(jwk.x!.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))],
    [-3, Uint8Array.from(atob(jwk.y!.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))],
  ]);

  return {
    id,
    /** navigator.credentials.create() answered, as PublicKeyCredential.toJSON() shows it. */
    async register(challenge: string, overrides: { origin?: string; rpId?: string; type?: string } = {}) {
      const clientDataJSON = json({ type: overrides.type ?? "webauthn.create", challenge, origin: overrides.origin ?? options.origin, crossOrigin: false });
      const hash = overrides.rpId ? await sha256(new TextEncoder().encode(overrides.rpId)) : rpIdHash;
      const authData = concat(hash, new Uint8Array([FLAG_UP | FLAG_UV | FLAG_AT]), u32(counter), new Uint8Array(16), new Uint8Array([0, credentialId.length]), credentialId, new Uint8Array(cbor(coseKey)));
      const attestationObject = new Uint8Array(cbor(new Map<Cbor, Cbor>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]])));
      return {
        id,
        rawId: id,
        type: "public-key",
        response: { clientDataJSON: encodeBase64Url(clientDataJSON), attestationObject: encodeBase64Url(attestationObject), transports: ["internal"] },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },
    /** navigator.credentials.get() answered. `userVerified` false: presence only (no PIN or biometric). */
    async assert(challenge: string, overrides: { userVerified?: boolean; counter?: number; origin?: string } = {}) {
      if (overrides.counter !== undefined) counter = overrides.counter;
      else if (counter > 0) counter += 1;
      const clientDataJSON = json({ type: "webauthn.get", challenge, origin: overrides.origin ?? options.origin, crossOrigin: false });
      const flags = FLAG_UP | (overrides.userVerified === false ? 0 : FLAG_UV);
      const authenticatorData = concat(rpIdHash, new Uint8Array([flags]), u32(counter));
      const signed = concat(authenticatorData, await sha256(clientDataJSON));
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, signed as Uint8Array<ArrayBuffer>));
      return {
        id,
        rawId: id,
        type: "public-key",
        response: {
          clientDataJSON: encodeBase64Url(clientDataJSON),
          authenticatorData: encodeBase64Url(authenticatorData),
          signature: encodeBase64Url(derSignature(raw)),
          userHandle: null,
        },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },
  };
}
