import type { Deps } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { logEvent } from "../lib/log.ts";
import { checkPwnedPassword } from "../lib/pwned.ts";

// PWNED_PASSWORDS_CHECK: refuse a new password that appears in Have I Been Pwned's breach corpus.
// Called after the local policy and before any database work, so a refused password changes
// nothing (a reset link is not consumed). The lookup fails open: if the service is slow or down,
// the bundled list and the local policy still apply, and sign-ups keep working.
export async function refuseBreachedPassword(deps: Deps, password: string, requestId: string): Promise<void> {
  const { config } = deps;
  if (!config.pwnedPasswordsCheck) return;
  const verdict = await checkPwnedPassword(password, {
    baseUrl: config.pwnedPasswordsUrl,
    timeoutMs: config.pwnedPasswordsTimeoutMs,
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
  });
  if (!verdict.checked) {
    logEvent("pwned_check_failed", { requestId, reason: verdict.reason });
  } else if (verdict.breached) {
    throw new AppError("weak_password", "This password has appeared in a data breach. Choose a different one.");
  }
}
