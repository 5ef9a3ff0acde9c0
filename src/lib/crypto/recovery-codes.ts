import { hashToken } from "./tokens.ts";

// Recovery codes: typed by a person who lost their second factor, so short and unambiguous — ten
// characters of 2–9 and a–z without i, l and o (31 letters, 49 bits a code), shown as xxxxx-xxxxx. They
// are stored as HMACs bound to their user, like every other token, and each works once.

export const RECOVERY_CODE_COUNT = 10;
const CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

/** Ten new codes as the person sees them. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars: string[] = [];
    while (chars.length < 10) {
      const [byte] = crypto.getRandomValues(new Uint8Array(1));
      // Rejection sampling keeps every letter equally likely.
      if (byte! < 256 - (256 % CODE_ALPHABET.length)) chars.push(CODE_ALPHABET[byte! % CODE_ALPHABET.length]!);
    }
    return `${chars.slice(0, 5).join("")}-${chars.slice(5).join("")}`;
  });
}

/** What a typed code means: case, spaces and hyphens do not matter. Null when it cannot be one. */
export function normalizeRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, "");
  return code.length === 10 && [...code].every((ch) => CODE_ALPHABET.includes(ch)) ? code : null;
}

/** The stored form: an HMAC under the token key, bound to the user so a row cannot be moved. */
export function hashRecoveryCode(key: CryptoKey, userId: string, normalized: string): Promise<string> {
  return hashToken(key, `recovery code\u0000${userId}\u0000${normalized}`);
}
