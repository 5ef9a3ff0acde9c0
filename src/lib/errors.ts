import type { ContentfulStatusCode } from "hono/utils/http-status";

// The one catalogue of error codes clients can see, with their HTTP status and default message.
export const ERRORS = {
  validation_failed: [400, "The request body is not valid."],
  malformed_json: [400, "The request body is not valid JSON."],
  invalid_token: [400, "The link or token is invalid or has expired."],
  weak_password: [400, "Choose a different password."],
  proof_required: [400, "Type the password you registered with (or send the code verifier) to confirm."],
  invalid_credentials: [401, "The email or password is incorrect."],
  unauthorized: [401, "A valid access token is required."],
  invalid_signature: [401, "The signature is not valid."],
  email_not_confirmed: [403, "Confirm your email address before logging in."],
  account_disabled: [403, "This account is disabled."],
  unlock_required: [403, "Too many failed logins for this account today. Enter the code we emailed you together with your password."],
  not_found: [404, "Not found."],
  method_not_allowed: [405, "Method not allowed."],
  payload_too_large: [413, "The request body is too large."],
  unsupported_media_type: [415, "Send the request body as application/json."],
  rate_limited: [429, "Too many requests. Try again later."],
  internal_error: [500, "Something went wrong on our side."],
  bad_environment: [500, "The service is misconfigured."],
  db_unavailable: [503, "The database is unavailable."],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly options: { details?: ErrorDetail[]; headers?: Record<string, string>; status?: ContentfulStatusCode } = {},
  ) {
    super(message ?? ERRORS[code][1]);
    this.name = "AppError";
    this.status = options.status ?? ERRORS[code][0];
  }
}

/** An error and the causes it wraps (drizzle wraps what the client threw), outermost first. */
export function* causes(err: unknown, depth = 4): Generator<unknown> {
  for (let e = err, i = 0; e && i < depth; e = (e as { cause?: unknown }).cause, i++) yield e;
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: ErrorDetail[]) {
  return { error: { code, message, request_id: requestId, ...(details ? { details } : {}) } };
}
