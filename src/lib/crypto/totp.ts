import { Secret, TOTP } from "otpauth";

// RFC 6238 through `otpauth`: SHA-1, 6 digits, 30-second steps — what every authenticator app
// reads from an otpauth:// URI without asking. Times are milliseconds, from the app's Clock.

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps of clock skew accepted either side of now (±30 s). */
export const TOTP_SKEW_STEPS = 1;
const SECRET_BYTES = 20; // RFC 4226's recommended 160 bits

/** A new secret as base32 (what apps show and what we seal). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

function totp(secretBase32: string, label = "", issuer = ""): TOTP {
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** The time step a moment falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code of a step (tests and the dev page compute codes with their own implementation). */
export function totpCodeAt(secretBase32: string, step: number): string {
  return totp(secretBase32).generate({ timestamp: step * TOTP_PERIOD_SECONDS * 1000 });
}

/**
 * The step whose code this is, within ±TOTP_SKEW_STEPS of now, or null. The caller accepts it only
 * for a step later than the last one accepted, so a code works once.
 */
export function matchTotp(secretBase32: string, code: string, nowMs: number): number | null {
  if (!/^[0-9]{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_SKEW_STEPS });
  return delta === null ? null : totpStep(nowMs) + delta;
}

/** The otpauth:// URI an authenticator app scans: `issuer:account`, with the issuer parameter too. */
export function totpUri(secretBase32: string, issuer: string, account: string): string {
  return totp(secretBase32, account, issuer).toString();
}
