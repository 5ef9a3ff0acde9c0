import {
  type JWK,
  type JWTPayload,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
} from "jose";
import { AppError } from "../errors.ts";
import { once } from "../once.ts";
import { randomId } from "./tokens.ts";

export type { JWK } from "jose";

const ALG = "EdDSA";
const TYP = "at+jwt";
const CLOCK_TOLERANCE_SECONDS = 5;
// Access tokens are small; refusing anything bigger keeps junk away from the parser.
const MAX_TOKEN_LENGTH = 8192;

export interface AccessClaims {
  sub: string;
  sid: string;
  email: string;
  roles: string[];
  /** Authentication methods (RFC 8176): ["pwd"], ["pwd", "otp"], ["pwd", "hwk"], ["hwk"]. */
  amr: string[];
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

export type AccessTokenSubject = Pick<AccessClaims, "sub" | "sid" | "email" | "roles" | "amr">;

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: string };

export interface JwtKeys {
  sign(
    claims: AccessTokenSubject,
    now: number,
  ): Promise<{ token: string; expiresIn: number; claims: AccessClaims }>;
  /** Never throws: every failure is `{ ok: false, reason }`. `now` is in seconds. */
  verify(token: string, now: number): Promise<VerifyResult>;
  /** Public parts only (kty, crv, x, kid, alg, use), for /.well-known/jwks.json. */
  jwks(): { keys: JWK[] };
}

/** A key as read from the setting: checked for shape at once, imported into Web Crypto when first used. */
interface ConfiguredKey {
  kid: string;
  x: string;
  d: string;
  publicJwk: JWK;
  /** Imported on the first verification with this kid. */
  publicKey: () => Promise<CryptoKey>;
}

/**
 * Reads JWT_SIGNING_KEYS (a JSON array of private Ed25519 JWKs, each with a kid): the first signs,
 * all verify, so a key can be rotated by prepending the new one and dropping the old one after the
 * longest access-token lifetime. Every entry's shape is checked here, once per isolate; the keys are
 * imported when first used (a fresh isolate's first GET /v1/me imports one public key, nothing
 * else), and the signing pair is proven to match at its first signature.
 *
 * Error messages name the variable and the position of the bad entry, never its content.
 */
export async function loadJwtKeys(opts: {
  signingKeysJson: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}): Promise<JwtKeys> {
  const { issuer, audience, ttlSeconds } = opts;
  if (!issuer || !audience) throw new Error("JWT issuer and audience must not be empty");
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error("JWT access-token ttlSeconds must be a positive integer");
  }
  const keys = readSigningKeys(opts.signingKeysJson);
  const first = keys[0];
  if (!first) throw new Error("JWT_SIGNING_KEYS must be a non-empty JSON array of private JWKs");
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  const verified = new Map<string, AccessClaims>();
  const signer = once(() => importSigningPair(first, "JWT_SIGNING_KEYS[0]"));

  return {
    async sign(subject, now) {
      const iat = Math.floor(now);
      const claims: AccessClaims = {
        iss: issuer,
        aud: audience,
        sub: subject.sub,
        sid: subject.sid,
        email: subject.email,
        roles: [...subject.roles],
        amr: [...subject.amr],
        iat,
        exp: iat + ttlSeconds,
        jti: randomId(),
      };
      const token = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: ALG, typ: TYP, kid: first.kid })
        .sign(await signer());
      return { token, expiresIn: ttlSeconds, claims };
    },

    async verify(token, now) {
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        return { ok: false, reason: "malformed" };
      }
      const known = verified.get(token);
      if (known) return checkTimes(known, now, ttlSeconds);
      try {
        const { payload } = await jwtVerify(token, (header) => selectVerifyKey(byKid, header), {
          algorithms: [ALG],
          typ: TYP,
          issuer,
          audience,
          currentDate: new Date(now * 1000),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          // Also refuses an iat in the future, and tokens older than the current TTL allows.
          maxTokenAge: ttlSeconds,
          requiredClaims: ["exp", "iat", "sub", "sid", "jti"],
        });
        const claims = readAccessClaims(payload);
        if (!claims) return { ok: false, reason: "invalid_claims" };
        remember(verified, token, claims);
        return { ok: true, claims };
      } catch (error) {
        return { ok: false, reason: describeFailure(error) };
      }
    },

    jwks() {
      return { keys: keys.map((key) => ({ ...key.publicJwk })) };
    },
  };
}

/** A new private Ed25519 JWK (kid, alg "EdDSA", use "sig"), e.g. for the dev start script. */
export async function generateSigningKeyJwk(kid?: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair("Ed25519", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: kid ?? randomId(), alg: ALG, use: "sig" };
}

// Tokens this isolate has verified, with their claims. An SPA sends one access token with every call
// for its lifetime, and the Ed25519 check and the JOSE parsing were nearly all that GET /v1/me cost
// beyond the floor (~180 µs of ~200). What is kept cannot change: that these bytes carry our
// signature, our issuer, audience and type. What can change, the time, is checked on every call,
// exactly as jose checks it. Keyed by the whole token, so no request learns anything about another
// token; bounded, the oldest entry going first. A new signing-key list is a new isolate's service
// (src/index.ts), so a key taken out of JWT_SIGNING_KEYS leaves nothing verified behind it.
const VERIFIED_TOKENS_KEPT = 1000;

function remember(verified: Map<string, AccessClaims>, token: string, claims: AccessClaims): void {
  if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
  verified.set(token, claims);
}

/** jose's time checks (with the same tolerance and order) for a token whose signature was checked before. */
function checkTimes(claims: AccessClaims, now: number, ttlSeconds: number): VerifyResult {
  const age = now - claims.iat;
  if (age - CLOCK_TOLERANCE_SECONDS > ttlSeconds) return { ok: false, reason: "expired" };
  if (age < -CLOCK_TOLERANCE_SECONDS) return { ok: false, reason: "invalid_claim:iat" };
  if (claims.exp <= now - CLOCK_TOLERANCE_SECONDS) return { ok: false, reason: "expired" };
  return { ok: true, claims: { ...claims, roles: [...claims.roles], amr: [...claims.amr] } };
}

class UnknownKidError extends Error {}

function selectVerifyKey(byKid: Map<string, ConfiguredKey>, header: { kid?: string }): Promise<CryptoKey> {
  const key = typeof header.kid === "string" ? byKid.get(header.kid) : undefined;
  if (!key) throw new UnknownKidError("unknown kid");
  return key.publicKey();
}

function describeFailure(error: unknown): string {
  if (error instanceof UnknownKidError) return "unknown_kid";
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `invalid_claim:${error.claim}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "alg_not_allowed";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return "malformed";
  return "invalid";
}

function readAccessClaims(payload: JWTPayload): AccessClaims | null {
  const { sub, sid, email, roles, jti, iat, exp, iss, aud, amr } = payload;
  if (!isNonEmptyString(sub) || !isNonEmptyString(sid) || !isNonEmptyString(jti)) return null;
  if (typeof email !== "string" || typeof iss !== "string" || typeof aud !== "string") return null;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string")) return null;
  if (typeof iat !== "number" || typeof exp !== "number") return null;
  // Tokens signed before amr existed were all opened with a password.
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === "string"))) return null;
  return { sub, sid, email, roles: [...(roles as string[])], amr: amr === undefined ? ["pwd"] : [...(amr as string[])], jti, iat, exp, iss, aud };
}

function readSigningKeys(json: string): ConfiguredKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // The SyntaxError text quotes the input, which is key material: do not pass it on.
    throw new Error("JWT_SIGNING_KEYS is not valid JSON");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error("JWT_SIGNING_KEYS must be a non-empty JSON array of private JWKs");
  }
  const keys: ConfiguredKey[] = [];
  for (const [index, entry] of parsed.entries()) {
    const key = readSigningKey(entry, index);
    if (keys.some((existing) => existing.kid === key.kid)) {
      throw new Error(`JWT_SIGNING_KEYS[${index}] repeats the kid of an earlier key`);
    }
    keys.push(key);
  }
  return keys;
}

// An Ed25519 key's x and d are 32 bytes each: 43 characters of unpadded base64url.
const ED25519_PART = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

function readSigningKey(entry: unknown, index: number): ConfiguredKey {
  const where = `JWT_SIGNING_KEYS[${index}]`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new Error(`${where} is not a JWK object`);
  }
  const jwk = entry as Record<string, unknown>;
  const { kty, crv, x, d, kid, alg, use } = jwk;
  if (kty !== "OKP" || crv !== "Ed25519") throw new Error(`${where} must be an OKP key with crv "Ed25519"`);
  if (!isNonEmptyString(kid)) throw new Error(`${where} has no kid`);
  if (!isNonEmptyString(x) || !isNonEmptyString(d)) {
    throw new Error(`${where} must be a private key (both "x" and "d")`);
  }
  if (!ED25519_PART.test(x) || !ED25519_PART.test(d)) throw new Error(`${where} could not be imported as an Ed25519 key`);
  if (alg !== undefined && alg !== ALG) throw new Error(`${where} has alg other than "EdDSA"`);
  if (use !== undefined && use !== "sig") throw new Error(`${where} has use other than "sig"`);

  const publicJwk: JWK = { kty: "OKP", crv: "Ed25519", x, kid, alg: ALG, use: "sig" };
  const publicKey = once(() => importKey({ kty: "OKP", crv: "Ed25519", x }, where));
  return { kid, x, d, publicJwk, publicKey };
}

async function importKey(jwk: JWK, where: string): Promise<CryptoKey> {
  try {
    return (await importJWK(jwk, ALG)) as CryptoKey;
  } catch {
    // The underlying error may echo key bytes: keep only our own message.
    throw new Error(`${where} could not be imported as an Ed25519 key`);
  }
}

// Web Crypto does not promise to check that "x" belongs to "d"; a mismatch would publish a JWKS
// that cannot verify our own tokens, so the pair is proven before its first signature. A mismatch
// is the service misconfigured: every request that signs answers bad_environment, naming the setting.
async function importSigningPair(key: ConfiguredKey, where: string): Promise<CryptoKey> {
  const [privateKey, publicKey] = await Promise.all([importKey({ kty: "OKP", crv: "Ed25519", x: key.x, d: key.d }, where), key.publicKey()]);
  const probe = new TextEncoder().encode("edge-auth key check");
  let matches = false;
  try {
    const signature = await crypto.subtle.sign("Ed25519", privateKey, probe);
    matches = await crypto.subtle.verify("Ed25519", publicKey, signature, probe);
  } catch {
    matches = false;
  }
  if (!matches) throw new AppError("bad_environment", `The service is misconfigured: ${where}: "x" is not the public key of "d".`);
  return privateKey;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
