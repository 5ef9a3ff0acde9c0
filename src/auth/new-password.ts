import type { Deps } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";
import { checkPwnedPassword } from "../lib/pwned.ts";
import { checkPasswordPolicy, passwordPolicy } from "./password-policy.ts";

/**
 * Every check a newly chosen password gets (register, reset, change): the local policy (length,
 * common passwords, the address or the app name in it), then, with PWNED_PASSWORDS_CHECK, Have I
 * Been Pwned's breach corpus. Runs before any database work, so a refused password changes nothing
 * (a reset link is not consumed); the per-IP budget has already passed by then, so a refused client
 * costs no call out. The breach lookup fails open: if the service is slow or down, the local policy
 * still applies and sign-ups keep working.
 */
export async function checkNewPassword(deps: Deps, password: string, ctx: { email?: string; requestId: string }): Promise<void> {
  const { config } = deps;
  checkPasswordPolicy(password, passwordPolicy(config, ctx.email));
  if (!config.pwnedPasswordsCheck) return;
  const verdict = await checkPwnedPassword(password, {
    baseUrl: config.pwnedPasswordsUrl,
    timeoutMs: config.pwnedPasswordsTimeoutMs,
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
  });
  if (!verdict.checked) {
    logEvent("pwned_check_failed", { requestId: ctx.requestId, reason: verdict.reason });
  } else if (verdict.breached) {
    throw new AppError("weak_password", "This password has appeared in a data breach. Choose a different one.");
  }
}
