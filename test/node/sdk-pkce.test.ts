import { describe, expect, it } from "vitest";
import { challengeFor, createVerifier } from "../../client/src/pkce.ts";

// The browser SDK's PKCE helpers (client/src/pkce.ts), in Node's WebCrypto, which is the browser's API.
describe("the SDK's PKCE helpers", () => {
  it("derive the S256 challenge of RFC 7636's example verifier", async () => {
    expect(await challengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  // 50 of them: one verifier has no '+' or '/' to turn into base64url about one time in four.
  it("make verifiers of 43 characters from the alphabet the server accepts, without padding", () => {
    const verifiers = Array.from({ length: 50 }, () => createVerifier());
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(verifiers).size).toBe(50);
  });

  it("make challenges the server's code_challenge rule accepts", async () => {
    for (let i = 0; i < 20; i++) expect(await challengeFor(createVerifier())).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
