import type { ContentfulStatusCode } from "hono/utils/http-status";

// The one catalogue of errors clients can see: each entry has one HTTP status and a default message.
// Where one public code means the same thing at two statuses (invalid_token: a mailed link is a bad
// request, an access or refresh token is unauthenticated), each use is its own entry naming the
// public code, so no handler ever overrides a status.
export const ERRORS = {
  validation_failed: [400, "The request body is not valid."],
  malformed_json: [400, "The request body is not valid JSON."],
  invalid_token: [400, "The link or token is invalid or has expired."],
  invalid_code: [400, "That code is not right or has expired. Check the newest email from us, or use its link."],
  weak_password: [400, "Choose a different password."],
  proof_required: [400, "Type the password you registered with (or send the code verifier) to confirm."],
  invalid_credentials: [401, "The email or password is incorrect."],
  invalid_access_token: [401, "A valid access token is required.", "invalid_token"],
  invalid_refresh_token: [401, "The refresh token is invalid or has expired.", "invalid_token"],
  invalid_api_key: [401, "A valid admin API key is required (Authorization: Bearer ea_…)."],
  invalid_signature: [401, "The signature is not valid."],
  invalid_mfa_token: [401, "This sign-in step has expired or was already used. Log in again.", "invalid_token"],
  invalid_second_factor: [401, "That code or passkey is not right.", "invalid_credentials"],
  email_not_confirmed: [403, "Confirm your email address before logging in."],
  account_disabled: [403, "This account is disabled."],
  insufficient_scope: [403, "The API key lacks the scope this needs."],
  unlock_required: [403, "Too many failed logins for this account today. Enter the code we emailed you together with your password."],
  not_found: [404, "Not found."],
  factor_not_found: [404, "You have no second factor with that id.", "not_found"],
  passkeys_unavailable: [404, "Passkeys are not enabled on this service.", "not_found"],
  email_taken: [409, "An account with that address exists."],
  method_not_allowed: [405, "Method not allowed."],
  totp_already_enabled: [409, "An authenticator app is already set up. Remove it before setting up another."],
  totp_not_enrolled: [409, "Start with POST /v1/mfa/totp/enroll, then activate with a code from the app."],
  passkey_already_registered: [409, "That passkey is already registered."],
  mfa_not_enabled: [409, "Set up a second factor first."],
  endpoint_configured: [409, "This webhook endpoint is declared in WEBHOOK_ENDPOINTS: change the setting to change it (here it can only be enabled or disabled)."],
  endpoint_disabled: [409, "The webhook endpoint is disabled: enable it before sending messages to it again."],
  payload_too_large: [413, "The request body is too large."],
  unsupported_media_type: [415, "Send the request body as application/json."],
  rate_limited: [429, "Too many requests. Try again later."],
  internal_error: [500, "Something went wrong on our side."],
  bad_environment: [500, "The service is misconfigured."],
  db_unavailable: [503, "The database is unavailable."],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string] | readonly [ContentfulStatusCode, string, string]>;

export type ErrorName = keyof typeof ERRORS;
/** The codes clients see. */
export type ErrorCode = { [K in ErrorName]: (typeof ERRORS)[K] extends readonly [number, string, infer C extends string] ? C : K }[ErrorName];

export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode;
  // A plain field, not a parameter property: Node's type stripping (the bench and tools import lib/)
  // does not take those.
  readonly options: { details?: ErrorDetail[]; headers?: Record<string, string> };

  constructor(name: ErrorName, message?: string, options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    const entry: readonly [ContentfulStatusCode, string, string?] = ERRORS[name];
    super(message ?? entry[1]);
    this.options = options;
    this.name = "AppError";
    this.status = entry[0];
    this.code = (entry[2] ?? name) as ErrorCode;
  }
}

/** An error and the causes it wraps (drizzle wraps what the client threw), outermost first. */
export function* causes(err: unknown, depth = 4): Generator<unknown> {
  for (let e = err, i = 0; e && i < depth; e = (e as { cause?: unknown }).cause, i++) yield e;
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: ErrorDetail[]) {
  return { error: { code, message, request_id: requestId, ...(details ? { details } : {}) } };
}
