import { decodeProtectedHeader, importJWK, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBase64Url, decodeUtf8, encodeBase64Url, encodeUtf8 } from "../../src/lib/crypto/encoding.ts";
import { generateSigningKeyJwk, type JWK, type JwtKeys, loadJwtKeys } from "../../src/lib/crypto/jwt.ts";
import { AppError } from "../../src/lib/errors.ts";

const ISSUER = "https://auth.example.test";
const AUDIENCE = "https://app.example.test";
const TTL = 900;
const NOW = 1_800_000_000;
const SUBJECT = { sub: "user_1", sid: "session_1", email: "ada@example.test", roles: ["user"], amr: ["pwd", "otp"] };

let current: JWK;
let previous: JWK;
let keys: JwtKeys;

function load(jwks: JWK[], overrides: Partial<{ issuer: string; audience: string }> = {}): Promise<JwtKeys> {
  return loadJwtKeys({
    signingKeysJson: JSON.stringify(jwks),
    issuer: overrides.issuer ?? ISSUER,
    audience: overrides.audience ?? AUDIENCE,
    ttlSeconds: TTL,
  });
}

function validPayload(): JWTPayload {
  return { ...SUBJECT, iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + TTL, jti: "jti_1" };
}

async function signWith(
  jwk: JWK,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  const privateKey = await importJWK(jwk, "EdDSA");
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: jwk.kid, ...header })
    .sign(privateKey);
}

function encodeJson(value: unknown): string {
  return encodeBase64Url(encodeUtf8(JSON.stringify(value)));
}

beforeAll(async () => {
  current = await generateSigningKeyJwk("key-2026");
  previous = await generateSigningKeyJwk("key-2025");
  keys = await load([current]);
});

describe("sign and verify", () => {
  it("round-trips the claims", async () => {
    const signed = await keys.sign(SUBJECT, NOW);
    expect(signed.expiresIn).toBe(TTL);
    expect(signed.claims).toMatchObject({ ...SUBJECT, iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + TTL });
    expect(signed.claims.jti).toMatch(/.+/);

    const verified = await keys.verify(signed.token, NOW + 60);
    expect(verified).toEqual({ ok: true, claims: signed.claims });
  });

  it("writes the EdDSA, at+jwt and kid header", async () => {
    const { token } = await keys.sign(SUBJECT, NOW);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", typ: "at+jwt", kid: "key-2026" });
  });

  it("accepts a token just before it expires and refuses it once expired", async () => {
    const { token } = await keys.sign(SUBJECT, NOW);
    expect((await keys.verify(token, NOW + TTL - 1)).ok).toBe(true);
    expect(await keys.verify(token, NOW + TTL + 10)).toEqual({ ok: false, reason: "expired" });
  });

  // A token verified once is remembered (src/lib/crypto/jwt.ts); its time is checked every time,
  // with the answers jose gives a token it sees for the first time.
  it("answers a token it has verified before as it answers one it has not, at every time", async () => {
    const { token } = await keys.sign(SUBJECT, NOW);
    expect((await keys.verify(token, NOW)).ok).toBe(true);
    for (const at of [NOW - 100, NOW - 6, NOW - 4, NOW + 60, NOW + TTL - 1, NOW + TTL + 4, NOW + TTL + 5, NOW + TTL + 6, NOW + 10 * TTL]) {
      const fresh = await load([current]);
      expect(await keys.verify(token, at), `at NOW${at >= NOW ? "+" : ""}${at - NOW}`).toEqual(await fresh.verify(token, at));
    }
  });

  it("refuses a token issued in the future", async () => {
    const { token } = await keys.sign(SUBJECT, NOW + 600);
    expect((await keys.verify(token, NOW)).ok).toBe(false);
  });
});

describe("refuses forged and foreign tokens", () => {
  it("refuses a token signed by another key under the same kid", async () => {
    const impostor = await generateSigningKeyJwk("key-2026");
    const token = await signWith(impostor, validPayload());
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses a token signed by a key with an unknown kid", async () => {
    const stranger = await generateSigningKeyJwk("key-unknown");
    const token = await signWith(stranger, validPayload());
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "unknown_kid" });
  });

  it("refuses a token without a kid", async () => {
    const token = await signWith(current, validPayload(), { kid: undefined });
    expect((await keys.verify(token, NOW)).ok).toBe(false);
  });

  it('refuses an unsecured token (alg "none")', async () => {
    const header = encodeJson({ alg: "none", typ: "at+jwt", kid: current.kid });
    const token = `${header}.${encodeJson(validPayload())}.`;
    expect((await keys.verify(token, NOW)).ok).toBe(false);
  });

  it("refuses an HS256 token whose secret is the public key bytes (algorithm confusion)", async () => {
    const publicKeyBytes = decodeBase64Url(current.x ?? "");
    const token = await new SignJWT(validPayload())
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: current.kid })
      .sign(publicKeyBytes);
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "alg_not_allowed" });
  });

  it("refuses a token for another audience", async () => {
    const other = await load([current], { audience: "https://other-app.example.test" });
    const { token } = await other.sign(SUBJECT, NOW);
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "invalid_claim:aud" });
  });

  it("refuses a token from another issuer", async () => {
    const other = await load([current], { issuer: "https://evil.example.test" });
    const { token } = await other.sign(SUBJECT, NOW);
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "invalid_claim:iss" });
  });

  it.each(["JWT", "id+jwt", undefined])("refuses typ %s", async (typ) => {
    const token = await signWith(current, validPayload(), { typ });
    expect(await keys.verify(token, NOW)).toEqual({ ok: false, reason: "invalid_claim:typ" });
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const { token } = await keys.sign(SUBJECT, NOW);
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(decodeUtf8(decodeBase64Url(payload ?? ""))) as JWTPayload;
    const tampered = `${header}.${encodeJson({ ...claims, roles: ["admin"] })}.${signature}`;
    expect(await keys.verify(tampered, NOW)).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("claim shape", () => {
  const broken: Array<[string, (payload: JWTPayload) => JWTPayload]> = [
    ["without sub", ({ sub: _sub, ...rest }) => rest],
    ["without sid", ({ sid: _sid, ...rest }) => rest],
    ["without jti", ({ jti: _jti, ...rest }) => rest],
    ["without exp", ({ exp: _exp, ...rest }) => rest],
    ["without roles", ({ roles: _roles, ...rest }) => rest],
    ["with roles as a string", (payload) => ({ ...payload, roles: "admin" })],
    ["with a non-string role", (payload) => ({ ...payload, roles: ["user", 1] })],
    ["with amr as a string", (payload) => ({ ...payload, amr: "otp" })],
    ["with a non-string amr entry", (payload) => ({ ...payload, amr: ["pwd", 1] })],
    ["with an empty sid", (payload) => ({ ...payload, sid: "" })],
    ["with a numeric sub", (payload) => ({ ...payload, sub: 1 as unknown as string })],
  ];

  it.each(broken)("refuses a correctly signed token %s", async (_name, edit) => {
    const token = await signWith(current, edit(validPayload()));
    expect((await keys.verify(token, NOW)).ok).toBe(false);
  });

  it("reads a token signed before amr existed as a password session", async () => {
    const { amr: _amr, ...older } = validPayload() as JWTPayload & { amr?: unknown };
    const verified = await keys.verify(await signWith(current, older), NOW);
    expect(verified.ok && verified.claims.amr).toEqual(["pwd"]);
  });

  it("accepts the hand-built valid payload (so the cases above fail for their one defect)", async () => {
    const token = await signWith(current, validPayload());
    expect((await keys.verify(token, NOW)).ok).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["garbage", "not-a-token"],
    ["three empty parts", ".."],
    ["oversized", "a".repeat(10_000)],
    ["not a string", 42 as unknown as string],
  ])("returns ok:false without throwing for %s input", async (_name, token) => {
    const result = await keys.verify(token, NOW);
    expect(result.ok).toBe(false);
  });
});

describe("key rotation and JWKS", () => {
  it("publishes the public part of every configured key, with kid, alg and use and without d", async () => {
    const rotated = await load([current, previous]);
    const { keys: published } = rotated.jwks();
    expect(published.map((key) => key.kid)).toEqual(["key-2026", "key-2025"]);
    for (const key of published) {
      expect(key).not.toHaveProperty("d");
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    }
    expect(published[0]?.x).toBe(current.x);
    expect(published[1]?.x).toBe(previous.x);
  });

  it("signs with the first key and still verifies tokens signed by the previous key", async () => {
    const before = await load([previous]);
    const { token: oldToken } = await before.sign(SUBJECT, NOW);

    const rotated = await load([current, previous]);
    expect((await rotated.verify(oldToken, NOW)).ok).toBe(true);

    const { token: newToken } = await rotated.sign(SUBJECT, NOW);
    expect(decodeProtectedHeader(newToken).kid).toBe("key-2026");
    expect((await rotated.verify(newToken, NOW)).ok).toBe(true);
  });

  it("generates private Ed25519 JWKs with kid, alg and use", async () => {
    const jwk = await generateSigningKeyJwk();
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwk.kid).toMatch(/.+/);
    expect(jwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("invalid JWT_SIGNING_KEYS", () => {
  const cases: Array<[string, () => string]> = [
    ["invalid JSON that contains a key", () => `${JSON.stringify([current])},`],
    ["an empty array", () => "[]"],
    ["a single object instead of an array", () => JSON.stringify(current)],
    ["a non-object entry", () => JSON.stringify([current.d])],
    ["a key without kid", () => JSON.stringify([{ ...current, kid: undefined }])],
    ["a public key only", () => JSON.stringify([{ ...current, d: undefined }])],
    ["an X25519 key", () => JSON.stringify([{ ...current, crv: "X25519" }])],
    ["an EC key", () => JSON.stringify([{ ...current, kty: "EC", crv: "P-256" }])],
    ["an oct key", () => JSON.stringify([{ kty: "oct", k: current.d, kid: "k" }])],
    ["a key for another alg", () => JSON.stringify([{ ...current, alg: "RS256" }])],
    ["a key meant for encryption", () => JSON.stringify([{ ...current, use: "enc" }])],
    ["a duplicate kid", () => JSON.stringify([current, { ...previous, kid: current.kid }])],
    ["a d that is not a key", () => JSON.stringify([{ ...current, d: "AAAA" }])],
  ];

  it.each(cases)("throws a clear error for %s, without key material", async (_name, build) => {
    const error = await loadJwtKeys({
      signingKeysJson: build(),
      issuer: ISSUER,
      audience: AUDIENCE,
      ttlSeconds: TTL,
    }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/JWT_SIGNING_KEYS/);
    for (const secret of [current.d, current.x, previous.d, previous.x]) {
      expect(message).not.toContain(secret);
    }
    expect((error as Error).cause).toBeUndefined();
  });

  // Keys are imported when first used; the signing pair is proven before its first signature.
  it("refuses to sign with an x that does not belong to d, as a misconfiguration naming the setting", async () => {
    const mismatched = await load([{ ...current, x: previous.x }]);
    const error = await mismatched.sign(SUBJECT, NOW).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("bad_environment");
    expect((error as Error).message).toMatch(/JWT_SIGNING_KEYS\[0\]/);
    for (const secret of [current.d, current.x, previous.d, previous.x]) expect((error as Error).message).not.toContain(secret);
    // Verification with its public key still works (it is what the JWKS publishes).
    expect(mismatched.jwks().keys[0]?.x).toBe(previous.x);
  });
});
