import { describe, expect, it } from "vitest";
import { Secret } from "otpauth";
import { matchTotp, newTotpSecret, totpCodeAt, totpStep, totpUri } from "../../src/lib/crypto/totp.ts";
import { generateRecoveryCodes, normalizeRecoveryCode } from "../../src/lib/crypto/recovery-codes.ts";
import { qrSvg } from "../../src/lib/qr.ts";
import { originUnderRelyingParty, publicSuffixProblem, relyingPartyProblem } from "../../src/lib/relying-party.ts";
import { totpCode } from "../support/totp.ts";

// These run inside workerd: they are also the proof that otpauth and uqr work there.

// RFC 6238 appendix B, SHA-1 key "12345678901234567890"; 6-digit codes are the last six digits.
const RFC_SECRET = new Secret({ buffer: new TextEncoder().encode("12345678901234567890").buffer }).base32;
const RFC_VECTORS: Array<[number, string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

describe("TOTP (RFC 6238)", () => {
  it.each(RFC_VECTORS)("gives the RFC's code at %i s", async (seconds, eight) => {
    const step = totpStep(seconds * 1000);
    expect(totpCodeAt(RFC_SECRET, step)).toBe(eight.slice(2));
    expect(await totpCode(RFC_SECRET, seconds * 1000)).toBe(eight.slice(2));
    expect(matchTotp(RFC_SECRET, eight.slice(2), seconds * 1000)).toBe(step);
  });

  it("accepts the codes of one step either side of now and no further", async () => {
    const secret = newTotpSecret();
    const now = Date.UTC(2026, 10, 21, 12, 0, 10);
    const at = (steps: number) => totpCode(secret, now + steps * 30_000);
    expect(matchTotp(secret, await at(-1), now)).toBe(totpStep(now) - 1);
    expect(matchTotp(secret, await at(0), now)).toBe(totpStep(now));
    expect(matchTotp(secret, await at(1), now)).toBe(totpStep(now) + 1);
    expect(matchTotp(secret, await at(-2), now)).toBeNull();
    expect(matchTotp(secret, await at(2), now)).toBeNull();
  });

  it("refuses what is not six digits without computing anything", () => {
    const secret = newTotpSecret();
    for (const code of ["", "12345", "1234567", "12345a", " 123456"]) expect(matchTotp(secret, code, 0)).toBeNull();
  });

  it("makes 160-bit secrets and an otpauth URI apps read", () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri(secret, "Acme Notes", "ana@example.test"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/Acme Notes:ana@example.test");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ secret, issuer: "Acme Notes", algorithm: "SHA1", digits: "6", period: "30" });
  });

  it("draws a QR code as SVG (uqr)", () => {
    const svg = qrSvg("otpauth://totp/Acme:ana@example.test?secret=JBSWY3DPEHPK3PXP&issuer=Acme");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("</svg>");
  });
});

describe("recovery codes", () => {
  it("makes ten distinct codes of the unambiguous alphabet", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/);
  });

  it("reads a code typed in capitals, with spaces or without the hyphen", () => {
    expect(normalizeRecoveryCode("ABCDE-FGH23")).toBe("abcdefgh23");
    expect(normalizeRecoveryCode(" abcde fgh23 ")).toBe("abcdefgh23");
    expect(normalizeRecoveryCode("abcdefgh23")).toBe("abcdefgh23");
  });

  it.each(["abcde-fgh2", "abcde-fgh234", "abcde-fgh2o", "abcde-fgh2!", ""])("refuses %j", (typed) => {
    expect(normalizeRecoveryCode(typed)).toBeNull();
  });
});

describe("WebAuthn relying party", () => {
  it.each(["example.com", "auth.example.com", "example.co.uk", "my-app.workers.dev"])("accepts %s", (rpId) => {
    expect(relyingPartyProblem(rpId, "production")).toBeNull();
  });

  it.each([
    ["com", /public suffix/],
    ["dev", /public suffix/],
    ["127.0.0.1", /IP address/],
    ["https://example.com", /domain name alone/],
    ["example.com:443", /domain name alone/],
    ["Example.com", /domain name alone/],
    ["example.com.", /domain name alone/],
    ["localhost", /this machine/],
  ])("refuses %s in production", (rpId, problem) => {
    expect(relyingPartyProblem(rpId, "production")).toMatch(problem);
  });

  it.each(["workers.dev", "pages.dev", "github.io", "co.uk", "com"])("finds %s on the Public Suffix List", async (rpId) => {
    expect(await publicSuffixProblem(rpId)).toMatch(/public suffix/);
  });

  it.each(["example.com", "example.co.uk", "my-app.workers.dev", "localhost"])("does not find %s there", async (rpId) => {
    expect(await publicSuffixProblem(rpId)).toBeNull();
  });

  it.each(["-bad.example.com", "a..example.com", "ex_ample.com"])("refuses %s as no domain name", (rpId) => {
    expect(relyingPartyProblem(rpId, "production")).toMatch(/not a domain name/);
  });

  it("allows localhost in development", () => {
    expect(relyingPartyProblem("localhost", "development")).toBeNull();
  });

  it("matches origins whose host is the RP ID or under it", () => {
    expect(originUnderRelyingParty("https://example.com", "example.com")).toBe(true);
    expect(originUnderRelyingParty("https://app.example.com:8443", "example.com")).toBe(true);
    expect(originUnderRelyingParty("https://badexample.com", "example.com")).toBe(false);
    expect(originUnderRelyingParty("https://example.com.evil.test", "example.com")).toBe(false);
    expect(originUnderRelyingParty("not a url", "example.com")).toBe(false);
  });
});
