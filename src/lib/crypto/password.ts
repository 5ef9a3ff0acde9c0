import { once } from "../once.ts";
import { decodeBase64Url, encodeBase64Url, encodeUtf8, timingSafeEqual } from "./encoding.ts";

/**
 * Production Workers refuse PBKDF2 above 100,000 iterations (local workerd does not), so a higher
 * count would pass every local test and then fail every login in production.
 */
export const PBKDF2_MAX_ITERATIONS = 100_000;
export const PBKDF2_MIN_ITERATIONS = 10_000;
export const PBKDF2_DEFAULT_ITERATIONS = 100_000;

const SCHEME = "pbkdf2-sha512";
const SALT_BYTES = 16;
const HASH_BYTES = 64;
const PEPPER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
// $pbkdf2-sha512$i=<iterations>,p=<pepperId>[,n=nfkc]$<salt>$<hash>; no n= means NFC (older hashes).
const STORED_PATTERN =
  /^\$pbkdf2-sha512\$i=([1-9][0-9]{0,6}),p=([A-Za-z0-9_.-]{1,64})(?:,n=(nfkc))?\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** The Unicode form a password is put in before hashing. NIST SP 800-63B asks for NFKC. */
export type PasswordForm = "NFC" | "NFKC";
const CURRENT_FORM: PasswordForm = "NFKC";

export interface PasswordHasher {
  /**
   * Returns the self-describing stored string for a new password. With `saltFor`, the salt is
   * derived from that value (keyed by the pepper) instead of drawn at random: every pending
   * registration of one address shares it, so a typed password is checked against all of them
   * with one derivation (see matchAny).
   */
  hash(password: string, options?: { saltFor?: string }): Promise<string>;
  /**
   * The index of the stored hash the password matches, or -1. Hashes that share salt and
   * parameters cost one derivation together; an empty list still costs one.
   */
  matchAny(password: string, stored: string[]): Promise<number>;
  /**
   * Never throws. `needsRehash` is only ever true together with `ok` (the stored hash used other
   * parameters than the current ones), so a caller cannot be tricked into storing an unverified
   * password by acting on it alone.
   */
  verify(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** One full derivation whose result is thrown away: call it when the account does not exist. */
  burn(password: string): Promise<void>;
}

export interface ParsedPasswordHash {
  iterations: number;
  pepperId: string;
  form: PasswordForm;
  salt: Uint8Array;
  hash: Uint8Array;
}

/**
 * Passwords are first keyed with HMAC-SHA-256 under a secret pepper (kept in Worker secrets, not
 * the database), and that MAC is what PBKDF2 stretches: a stolen database alone cannot be cracked.
 *
 * Rotating the pepper would need the old pepper kept alongside the new one; this hasher only knows
 * the current pepper, so a hash made under another pepper id fails to verify (the user resets).
 *
 * Imports the pepper key on first use, once: call once per isolate.
 */
export async function createPasswordHasher(opts: {
  pepper: string;
  pepperId: string;
  iterations?: number;
}): Promise<PasswordHasher> {
  const iterations = opts.iterations ?? PBKDF2_DEFAULT_ITERATIONS;
  assertIterations(iterations);
  if (opts.pepper.length === 0) throw new Error("password pepper must not be empty");
  if (!PEPPER_ID_PATTERN.test(opts.pepperId)) {
    throw new Error("password pepper id must be 1-64 characters of A-Z a-z 0-9 _ . -");
  }
  // Imported on the first derivation, not when the isolate starts.
  const pepperKeys = once(async () => ({
    pepperKey: await importPepperKey(opts.pepper),
    saltKey: await importPepperKey(`salt\u0000${opts.pepper}`),
  }));
  const pepperId = opts.pepperId;

  return {
    async hash(password, options) {
      const { pepperKey, saltKey } = await pepperKeys();
      const salt =
        options?.saltFor === undefined
          ? crypto.getRandomValues(new Uint8Array(SALT_BYTES))
          : new Uint8Array(await crypto.subtle.sign("HMAC", saltKey, encodeUtf8(options.saltFor))).slice(0, SALT_BYTES);
      const derived = await deriveHash(pepperKey, password, salt, iterations, CURRENT_FORM);
      return formatPasswordHash({ iterations, pepperId, form: CURRENT_FORM, salt, hash: derived });
    },

    async matchAny(password, stored) {
      const { pepperKey } = await pepperKeys();
      const parsed = stored.map((s) => parsePasswordHash(s));
      const derivations = new Map<string, Promise<Uint8Array>>();
      let match = -1;
      for (const [index, p] of parsed.entries()) {
        if (!p || p.pepperId !== pepperId) continue;
        const group = `${p.iterations}/${p.form}/${encodeBase64Url(p.salt)}`;
        if (!derivations.has(group)) derivations.set(group, deriveHash(pepperKey, password, p.salt, p.iterations, p.form));
        if (timingSafeEqual(await derivations.get(group)!, p.hash) && match === -1) match = index;
      }
      if (derivations.size === 0) await burnDerivation(pepperKey, password, iterations);
      return match;
    },

    async verify(password, stored) {
      const { pepperKey } = await pepperKeys();
      try {
        const parsed = parsePasswordHash(stored);
        if (!parsed || parsed.pepperId !== pepperId) {
          // Still pay for one derivation so an unusable stored hash answers as slowly as a real one.
          await burnDerivation(pepperKey, password, iterations);
          return { ok: false, needsRehash: false };
        }
        const derived = await deriveHash(pepperKey, password, parsed.salt, parsed.iterations, parsed.form);
        const ok = timingSafeEqual(derived, parsed.hash);
        return { ok, needsRehash: ok && (parsed.iterations !== iterations || parsed.form !== CURRENT_FORM) };
      } catch {
        return { ok: false, needsRehash: false };
      }
    },

    async burn(password) {
      await burnDerivation((await pepperKeys()).pepperKey, password, iterations);
    },
  };
}

/** Returns null for anything that is not exactly a hash this module could have written. */
export function parsePasswordHash(stored: string): ParsedPasswordHash | null {
  if (typeof stored !== "string") return null;
  const match = STORED_PATTERN.exec(stored);
  if (!match) return null;
  const [, iterationsText, pepperId, nfkc, saltText, hashText] = match;
  if (!iterationsText || !pepperId || !saltText || !hashText) return null;
  const iterations = Number(iterationsText);
  // Refusing counts above the maximum also keeps a planted hash from costing more CPU than allowed.
  if (iterations < PBKDF2_MIN_ITERATIONS || iterations > PBKDF2_MAX_ITERATIONS) return null;
  const salt = tryDecodeBase64Url(saltText);
  const hash = tryDecodeBase64Url(hashText);
  if (!salt || salt.byteLength !== SALT_BYTES || !hash || hash.byteLength !== HASH_BYTES) return null;
  return { iterations, pepperId, form: nfkc ? "NFKC" : "NFC", salt, hash };
}

function formatPasswordHash(parsed: ParsedPasswordHash): string {
  const params = `i=${parsed.iterations},p=${parsed.pepperId}${parsed.form === "NFKC" ? ",n=nfkc" : ""}`;
  return `$${SCHEME}$${params}$${encodeBase64Url(parsed.salt)}$${encodeBase64Url(parsed.hash)}`;
}

function assertIterations(iterations: number): void {
  if (
    !Number.isSafeInteger(iterations) ||
    iterations < PBKDF2_MIN_ITERATIONS ||
    iterations > PBKDF2_MAX_ITERATIONS
  ) {
    throw new Error(
      `PBKDF2 iterations must be an integer from ${PBKDF2_MIN_ITERATIONS} to ${PBKDF2_MAX_ITERATIONS} (production Workers refuse more)`,
    );
  }
}

function importPepperKey(pepper: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encodeUtf8(pepper), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
}

async function deriveHash(
  pepperKey: CryptoKey,
  password: string,
  salt: Uint8Array,
  iterations: number,
  form: PasswordForm,
): Promise<Uint8Array> {
  // Normalised so the same password typed with composed or decomposed accents (é vs e + U+0301),
  // or with full-width or ligature forms under NFKC, matches.
  const peppered = await crypto.subtle.sign("HMAC", pepperKey, encodeUtf8(password.normalize(form)));
  const baseKey = await crypto.subtle.importKey("raw", peppered, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-512", salt, iterations },
    baseKey,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

async function burnDerivation(pepperKey: CryptoKey, password: string, iterations: number): Promise<void> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  await deriveHash(pepperKey, password, salt, iterations, CURRENT_FORM);
}

function tryDecodeBase64Url(text: string): Uint8Array | null {
  try {
    return decodeBase64Url(text);
  } catch {
    return null;
  }
}
