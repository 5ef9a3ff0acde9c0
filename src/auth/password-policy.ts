import type { Config } from "../config.ts";
import { decodeBase64Url } from "../lib/crypto/encoding.ts";
import { AppError } from "../lib/errors.ts";
import { openGolombSet } from "../lib/golomb-set.ts";
import { COMMON_PASSWORDS } from "./common-passwords.ts";

export interface PolicyContext {
  minLength: number;
  email?: string;
  appName: string;
}

/** The policy as configured, for the account with this address if it is known. */
export function passwordPolicy(config: Pick<Config, "passwordMinLength" | "appName">, email?: string): PolicyContext {
  return { minLength: config.passwordMinLength, appName: config.appName, email };
}

// Shorter fragments would refuse too much by accident ("an", "jo").
const MIN_FRAGMENT_LENGTH = 3;

let common: ReturnType<typeof openGolombSet> | undefined;
// Decoded on the first password check, once per isolate (a sorted array of 18k numbers, 70 KiB):
// immutable data, not request state, and nothing a request that checks no password pays for.
function isCommon(lowered: string): boolean {
  common ??= openGolombSet({ ...COMMON_PASSWORDS, bytes: decodeBase64Url(COMMON_PASSWORDS.base64url) });
  return common.has(lowered);
}

// The address's local part, and without a "+tag", since either is an obvious guess.
function emailFragments(email: string | undefined): string[] {
  if (!email) return [];
  const local = email.slice(0, email.lastIndexOf("@")).toLowerCase();
  return [local, local.split("+")[0]!];
}

// NIST SP 800-63B: a minimum length and a check against values known to be bad (common passwords,
// the account's own address, the service's name); no composition rules. The password arrives
// NFC-normalised (identity.ts passwordField).
export function checkPasswordPolicy(password: string, ctx: PolicyContext): void {
  if ([...password].length < ctx.minLength) {
    throw new AppError("weak_password", `Use at least ${ctx.minLength} characters.`);
  }
  const lowered = password.toLowerCase();
  if (isCommon(lowered)) {
    throw new AppError("weak_password", "This password is too common. Choose a different one.");
  }
  if (emailFragments(ctx.email).some((part) => part.length >= MIN_FRAGMENT_LENGTH && lowered.includes(part))) {
    throw new AppError("weak_password", "The password must not contain your email address.");
  }
  const app = ctx.appName.toLowerCase();
  if (app.length >= MIN_FRAGMENT_LENGTH && lowered.includes(app)) {
    throw new AppError("weak_password", `The password must not contain the name ${ctx.appName}.`);
  }
}
