import { describe, expect, it } from "vitest";
import {
  decodeBase64Url,
  encodeBase64Url,
  timingSafeEqual,
} from "../../src/lib/crypto/encoding.ts";
import { deriveTokenKey, generateCode, generateToken, hashToken, isWellFormedToken } from "../../src/lib/crypto/tokens.ts";

describe("generateToken", () => {
  it("returns 43 base64url characters (32 random bytes)", () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeBase64Url(token).byteLength).toBe(32);
    expect(isWellFormedToken(token)).toBe(true);
  });

});

describe("hashToken", () => {
  const key = deriveTokenKey("test-pepper-0123456789abcdefghijklmnop");

  it("is deterministic under one key, differs from the token, and is 64 hex characters", async () => {
    const token = generateToken();
    const hash = await hashToken(await key, token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(token);
    expect(await hashToken(await key, token)).toBe(hash);
  });

  it("is not the plain SHA-256, so write access to the database alone cannot plant a token", async () => {
    const sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(await hashToken(await key, "abc")).not.toBe(sha256);
    const otherKey = await deriveTokenKey("another-pepper-0123456789abcdefghijklmnop");
    expect(await hashToken(otherKey, "abc")).not.toBe(await hashToken(await key, "abc"));
  });
});

describe("generateCode", () => {
  it("gives six decimal digits, leading zeros kept", () => {
    for (let i = 0; i < 200; i++) expect(generateCode()).toMatch(/^[0-9]{6}$/);
  });
});

describe("isWellFormedToken", () => {
  const valid = generateToken();
  const cases: Array<[string, unknown]> = [
    ["empty", ""],
    ["one character short", valid.slice(0, 42)],
    ["one character long", `${valid}A`],
    ["a character outside base64url", `${valid.slice(0, 10)}+${valid.slice(11)}`],
    ["padding", `${valid.slice(0, 42)}=`],
    ["a space", `${valid.slice(0, 42)} `],
    ["a trailing newline", `${valid.slice(0, 42)}\n`],
    ["a non-canonical last character", `${valid.slice(0, 42)}B`],
    ["a hex token hash", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["a number", 12345],
    ["null", null],
    ["an object", { token: valid }],
  ];

  it.each(cases)("refuses %s", (_name, value) => {
    expect(isWellFormedToken(value)).toBe(false);
  });

  it("accepts freshly generated tokens", () => {
    for (let i = 0; i < 200; i++) expect(isWellFormedToken(generateToken())).toBe(true);
  });
});

describe("encoding helpers", () => {
  it("round-trips base64url for every length up to 40 bytes", () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = encodeBase64Url(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeBase64Url(text)).toEqual(bytes);
    }
  });

  it.each(["a", "ab=c", "a+b/", "AB C", "AB", "AAB"])("refuses base64url %j that is invalid or non-canonical", (text) => {
    // "AB" and "AAB" carry non-zero padding bits: the canonical spellings are "AA" and "AAA".
    expect(() => decodeBase64Url(text)).toThrow();
  });

  it("timingSafeEqual compares contents", () => {
    expect(timingSafeEqual("secret", "secret")).toBe(true);
    expect(timingSafeEqual("secret", "secreT")).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
  });

  it("timingSafeEqual answers false, without throwing, for different lengths", () => {
    expect(timingSafeEqual("secret", "secrets")).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });

});
