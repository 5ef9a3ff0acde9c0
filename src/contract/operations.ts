import type * as z from "zod";
import type { ErrorCode } from "../lib/errors.ts";
import { ResendEventBody } from "../mail/resend-events.ts";
import { ListQuery, MfaResetBody, NewUser, UserPatch } from "../routes/admin-users.ts";
import { NewKey } from "../routes/admin-keys.ts";
import { EmptyBody, EndpointPatch, MessagesQuery, NewEndpoint, ReplaySinceBody } from "../routes/admin-webhooks.ts";
import { MfaLoginBody, PasskeyLoginBody, PasskeyLoginOptionsBody } from "../routes/login-second-step.ts";
import {
  NewPasskeyBody,
  NewRecoveryCodesBody,
  PasskeyChallengeBody,
  PasskeyCreationOptionsBody,
  RemoveFactorBody,
  TotpActivateBody,
  TotpEnrollBody,
} from "../routes/mfa.ts";
import { EmailChangeBody, EmailChangeConfirmBody, EmailChangeRevertBody } from "../routes/email-change.ts";
import { DeleteAccountBody } from "../routes/me.ts";
import { ChangeBody, ForgotBody, ResetBody } from "../routes/password.ts";
import { LoginBody, LogoutBody, RefreshBody } from "../routes/session.ts";
import { ConfirmBody, RegisterBody, ResendConfirmBody } from "../routes/sign-up.ts";
import { responseSchemas } from "./responses.ts";

// Every operation of the API: what it takes (the very schemas its route validates with) and every
// status it can answer. The OpenAPI document (openapi.ts) and the tests' conformance check
// (test/support/conformance.ts) both read this table, so neither can drift from the other.

export type Method = "get" | "post" | "patch" | "delete";

/** A success answer (a body schema, or none: 204, a page) or an error answer (the codes it can carry). */
export type Answer =
  | { description: string; body?: z.ZodType; contentType?: string; example?: unknown }
  | { description?: string; codes: ErrorCode[] };

export interface Operation {
  method: Method;
  /** OpenAPI path template: /admin/v1/users/{id}. */
  path: string;
  operationId: string;
  summary: string;
  tag: "Sign-up" | "Session" | "Password" | "Second factors" | "Account" | "Admin" | "Service" | "Pages" | "Webhooks";
  security?: "user" | "admin" | "user-or-mfa-token";
  body?: z.ZodType;
  query?: z.ZodType;
  bodyExample?: unknown;
  responses: Record<number, Answer>;
}

const page = (description: string): Answer => ({ description, contentType: "text/html" });

/** What every POST under /v1 can also answer (README, "API"): the body guards and the per-IP budget. */
// (DELETEs under /v1 pass the same guards.)
const V1_POST: Record<number, Answer> = {
  400: { codes: ["validation_failed", "malformed_json"] },
  413: { codes: ["payload_too_large"] },
  415: { codes: ["unsupported_media_type"] },
  429: { codes: ["rate_limited"] },
};
const USES_DB: Record<number, Answer> = { 503: { codes: ["db_unavailable"] } };
// bad_environment: settings the Worker cannot run with, found at an isolate's first request (or, for
// WEBAUTHN_RP_ID's public-suffix check, at the first passkey ceremony).
const ALWAYS: Record<number, Answer> = { 500: { codes: ["internal_error", "bad_environment"] } };
/** The admin API: a key on every request, its own budget; JSON bodies where there is a body. */
const ADMIN: Record<number, Answer> = {
  401: { codes: ["invalid_api_key"] },
  403: { codes: ["insufficient_scope"] },
  429: { codes: ["rate_limited"] },
  ...USES_DB,
  ...ALWAYS,
};
const ADMIN_BODY: Record<number, Answer> = { 400: { codes: ["validation_failed", "malformed_json"] }, 413: { codes: ["payload_too_large"] }, 415: { codes: ["unsupported_media_type"] } };

/** Merges answer tables; codes of one status from several tables are joined. */
function answers(...tables: Array<Record<number, Answer>>): Record<number, Answer> {
  const out: Record<number, Answer> = {};
  for (const table of tables) {
    for (const [status, answer] of Object.entries(table)) {
      const prior = out[Number(status)];
      out[Number(status)] = prior && "codes" in prior && "codes" in answer ? { ...prior, codes: [...new Set([...prior.codes, ...answer.codes])] } : answer;
    }
  }
  return out;
}

const v1Post = (own: Record<number, Answer>) => answers(V1_POST, own, USES_DB, ALWAYS);
const PASSWORD = "correct horse battery";

// Built by the first caller (GET /openapi.json, the tests), not at module load: the response
// schemas are part of it, and no other request needs them.
function build(): Operation[] {
  const R = responseSchemas();
  const userAndSession = { description: "Logged in.", body: R.UserAndSession } as const;
  return [
    {
      method: "post", path: "/v1/register", operationId: "register", tag: "Sign-up",
      summary: "Register; the confirmation link is mailed. The same answer for new and taken addresses.",
      body: RegisterBody,
      bodyExample: { email: "ana@example.com", password: PASSWORD, name: "Ana", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" },
      responses: v1Post({
        202: { description: "Accepted (whether or not the address is taken).", body: R.Message, example: { message: "If the address can be registered, a confirmation email is on its way." } },
        400: { codes: ["weak_password"] },
      }),
    },
    {
      method: "post", path: "/v1/confirm", operationId: "confirm", tag: "Sign-up",
      summary: "Confirm the address with the mailed token and a proof (the password or the PKCE code verifier).",
      body: ConfirmBody,
      bodyExample: { token: "et_…", code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" },
      responses: v1Post({
        200: { description: "Confirmed and logged in (under MFA_REQUIRED: an enrolment step).", body: R.ConfirmAnswer },
        400: { codes: ["invalid_token", "invalid_code", "proof_required", "weak_password"] },
        401: { codes: ["invalid_credentials"] },
      }),
    },
    {
      method: "post", path: "/v1/confirm/resend", operationId: "resendConfirmation", tag: "Sign-up",
      summary: "Mail the confirmation link again. The same answer for every address.",
      body: ResendConfirmBody,
      responses: v1Post({ 202: { description: "Accepted.", body: R.Message } }),
    },
    {
      method: "post", path: "/v1/login", operationId: "login", tag: "Session",
      summary: "Log in with email and password (and the mailed unlock code once the address is locked).",
      body: LoginBody,
      bodyExample: { email: "ana@example.com", password: PASSWORD },
      responses: v1Post({
        200: {
          description: "A session, or the second step a user with a second factor must take.",
          body: R.LoginAnswer,
          example: {
            user: { id: "usr_01", email: "ana@example.com", name: "Ana", roles: [], email_confirmed: true, created_at: "2026-11-21T12:00:00.000Z" },
            session: { access_token: "eyJhbGciOiJFZERTQSIs…", token_type: "Bearer", expires_in: 900, refresh_token: "rt_…", refresh_expires_in: 2592000 },
          },
        },
        401: { codes: ["invalid_credentials"] },
        403: { codes: ["email_not_confirmed", "account_disabled", "unlock_required"] },
      }),
    },
    {
      method: "post", path: "/v1/login/mfa", operationId: "loginSecondFactor", tag: "Session",
      summary: "Finish a login with the mfa_token and one proof: a TOTP code, a recovery code or a passkey.",
      body: MfaLoginBody,
      bodyExample: { mfa_token: "mt_…", code: "123456" },
      responses: v1Post({
        200: { description: "Logged in.", body: R.MfaLoginAnswer },
        401: { codes: ["invalid_token", "invalid_credentials"] },
        403: { codes: ["account_disabled"] },
      }),
    },
    {
      method: "post", path: "/v1/login/passkey/options", operationId: "passkeyLoginOptions", tag: "Session",
      summary: "WebAuthn request options for a passwordless sign-in.",
      body: PasskeyLoginOptionsBody,
      responses: v1Post({ 200: { description: "Options.", body: R.WebAuthnOptions }, 404: { codes: ["not_found"], description: "Passkeys are not enabled (no WEBAUTHN_RP_ID)." } }),
    },
    {
      method: "post", path: "/v1/login/passkey", operationId: "passkeyLogin", tag: "Session",
      summary: "Sign in with a passkey alone.",
      body: PasskeyLoginBody,
      responses: v1Post({ 200: userAndSession, 401: { codes: ["invalid_credentials", "invalid_token"] }, 403: { codes: ["account_disabled"] }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/v1/token/refresh", operationId: "refresh", tag: "Session",
      summary: "Rotate the refresh token: both tokens are new, the old refresh token is spent.",
      body: RefreshBody,
      bodyExample: { refresh_token: "rt_…" },
      responses: v1Post({ 200: { description: "The new tokens.", body: R.SessionOnly }, 401: { codes: ["invalid_token"] } }),
    },
    {
      method: "post", path: "/v1/logout", operationId: "logout", tag: "Session", security: "user",
      summary: "End this session, or every session of the user with {all: true}.",
      body: LogoutBody,
      bodyExample: {},
      responses: v1Post({ 204: { description: "Logged out." }, 401: { codes: ["invalid_token"] } }),
    },
    {
      method: "get", path: "/v1/me", operationId: "me", tag: "Account", security: "user",
      summary: "Who the access token belongs to, from the token alone.",
      responses: answers({
        200: { description: "The user and the session.", body: R.Me, example: { user: { id: "usr_01", email: "ana@example.com", roles: [], email_confirmed: true }, session: { id: "ses_01", expires_at: "2026-11-21T12:15:00.000Z", amr: ["pwd"] } } },
        401: { codes: ["invalid_token"] },
      }, ALWAYS),
    },
    {
      method: "get", path: "/v1/me/events", operationId: "myEvents", tag: "Account", security: "user",
      summary: "The caller's newest 50 security events.",
      responses: answers({ 200: { description: "Events, newest first.", body: R.Events }, 401: { codes: ["invalid_token"] } }, USES_DB, ALWAYS),
    },
    {
      method: "get", path: "/v1/me/export", operationId: "exportAccount", tag: "Account", security: "user",
      summary: "Everything held about the caller (full IPs and user agents), as a download.",
      responses: answers({ 200: { description: "The export.", body: R.AccountExport }, 401: { codes: ["invalid_token"] } }, USES_DB, ALWAYS),
    },
    {
      method: "delete", path: "/v1/me", operationId: "deleteAccount", tag: "Account", security: "user",
      summary: "Erase the account and its personal data; a confirmation is mailed.",
      body: DeleteAccountBody,
      responses: v1Post({ 204: { description: "Erased." }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled", "unlock_required"] } }),
    },
    {
      method: "get", path: "/v1/sessions", operationId: "listSessions", tag: "Account", security: "user",
      summary: "The caller's live sessions, most recently used first.",
      responses: answers({ 200: { description: "Sessions.", body: R.OwnSessions }, 401: { codes: ["invalid_token"] } }, USES_DB, ALWAYS),
    },
    {
      method: "delete", path: "/v1/sessions/{id}", operationId: "endSession", tag: "Account", security: "user",
      summary: "End one of the caller's sessions.",
      responses: v1Post({ 204: { description: "Ended." }, 401: { codes: ["invalid_token"] }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/v1/email/change", operationId: "changeEmail", tag: "Account", security: "user",
      summary: "Ask to move the account to a new address; the same answer for a free and a taken one.",
      body: EmailChangeBody,
      responses: v1Post({ 202: { description: "Accepted.", body: R.Message }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled", "unlock_required"] } }),
    },
    {
      method: "post", path: "/v1/email/change/confirm", operationId: "confirmEmailChange", tag: "Account",
      summary: "Confirm the new address with its mailed token, or the address and its code.",
      body: EmailChangeConfirmBody,
      responses: v1Post({ 200: { description: "Changed.", body: R.EmailChanged }, 400: { codes: ["invalid_token", "invalid_code"] }, 403: { codes: ["account_disabled"] } }),
    },
    {
      method: "post", path: "/v1/email/change/revert", operationId: "revertEmailChange", tag: "Account",
      summary: "Cancel a pending change, or undo one made in the last 72 hours (the old address's mail).",
      body: EmailChangeRevertBody,
      responses: v1Post({ 200: { description: "Cancelled or undone.", body: R.EmailReverted }, 400: { codes: ["invalid_token"] } }),
    },
    {
      method: "post", path: "/v1/password/forgot", operationId: "forgotPassword", tag: "Password",
      summary: "Mail a reset link. The same answer for every address.",
      body: ForgotBody,
      responses: v1Post({ 202: { description: "Accepted.", body: R.Message } }),
    },
    {
      method: "post", path: "/v1/password/reset", operationId: "resetPassword", tag: "Password",
      summary: "Choose a new password with the mailed token; every session ends.",
      body: ResetBody,
      responses: v1Post({ 200: { description: "Changed: log in with the new password.", body: R.Message }, 400: { codes: ["invalid_token", "invalid_code", "weak_password"] }, 403: { codes: ["account_disabled"] } }),
    },
    {
      method: "post", path: "/v1/password/change", operationId: "changePassword", tag: "Password", security: "user",
      summary: "Change the password; other sessions end, this one continues with new tokens.",
      body: ChangeBody,
      responses: v1Post({ 200: { description: "The new tokens.", body: R.SessionOnly }, 400: { codes: ["weak_password"] }, 401: { codes: ["invalid_token", "invalid_credentials"] } }),
    },
    {
      method: "get", path: "/v1/mfa", operationId: "listFactors", tag: "Second factors", security: "user",
      summary: "The user's second factors.",
      responses: answers({ 200: { description: "Factors.", body: R.MfaStatus }, 401: { codes: ["invalid_token"] } }, USES_DB, ALWAYS),
    },
    {
      method: "post", path: "/v1/mfa/totp/enroll", operationId: "enrollTotp", tag: "Second factors", security: "user-or-mfa-token",
      summary: "Start setting up an authenticator app (Bearer + password, or an enrolment mfa_token).",
      body: TotpEnrollBody,
      responses: v1Post({ 200: { description: "The secret to add to the app.", body: R.TotpEnrollment }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled"] }, 409: { codes: ["totp_already_enabled"] } }),
    },
    {
      method: "post", path: "/v1/mfa/totp/activate", operationId: "activateTotp", tag: "Second factors", security: "user-or-mfa-token",
      summary: "Activate the authenticator app with a code from it.",
      body: TotpActivateBody,
      responses: v1Post({ 200: { description: "Active.", body: R.TotpActivated }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled"] }, 409: { codes: ["totp_already_enabled", "totp_not_enrolled"] } }),
    },
    {
      method: "post", path: "/v1/mfa/passkeys/options", operationId: "passkeyCreationOptions", tag: "Second factors", security: "user-or-mfa-token",
      summary: "WebAuthn creation options for a new passkey.",
      body: PasskeyCreationOptionsBody,
      responses: v1Post({ 200: { description: "Options.", body: R.WebAuthnOptions }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled"] }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/v1/mfa/passkeys", operationId: "addPasskey", tag: "Second factors", security: "user-or-mfa-token",
      summary: "Register the passkey the browser created.",
      body: NewPasskeyBody,
      responses: v1Post({ 201: { description: "Registered.", body: R.PasskeyAdded }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 403: { codes: ["account_disabled"] }, 404: { codes: ["not_found"] }, 409: { codes: ["passkey_already_registered"] } }),
    },
    {
      method: "post", path: "/v1/mfa/passkeys/challenge", operationId: "passkeyChallenge", tag: "Second factors", security: "user",
      summary: "Request options to prove a passkey for removing a factor or new recovery codes.",
      body: PasskeyChallengeBody,
      responses: v1Post({ 200: { description: "Options.", body: R.WebAuthnOptions }, 401: { codes: ["invalid_token"] }, 404: { codes: ["not_found"] }, 409: { codes: ["mfa_not_enabled"] } }),
    },
    {
      method: "post", path: "/v1/mfa/remove", operationId: "removeFactor", tag: "Second factors", security: "user",
      summary: "Remove a second factor (password and a current second factor).",
      body: RemoveFactorBody,
      responses: v1Post({ 200: { description: "The factors left.", body: R.Factors }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/v1/mfa/recovery-codes", operationId: "newRecoveryCodes", tag: "Second factors", security: "user",
      summary: "New recovery codes; the old ones stop working.",
      body: NewRecoveryCodesBody,
      responses: v1Post({ 200: { description: "The codes, shown once.", body: R.RecoveryCodes }, 401: { codes: ["invalid_token", "invalid_credentials"] }, 409: { codes: ["mfa_not_enabled"] } }),
    },
    {
      method: "get", path: "/.well-known/jwks.json", operationId: "jwks", tag: "Service",
      summary: "The public signing keys (current and previous).",
      responses: answers({ 200: { description: "A JWK set.", body: R.Jwks } }, ALWAYS),
    },
    {
      method: "get", path: "/health", operationId: "health", tag: "Service",
      summary: "Liveness, with a database probe.",
      responses: answers({ 200: { description: "Healthy.", body: R.Health } }, USES_DB, ALWAYS),
    },
    {
      method: "get", path: "/openapi.json", operationId: "openapi", tag: "Service",
      summary: "This document.",
      responses: answers({ 200: { description: "OpenAPI 3.1." } }, ALWAYS),
    },
    { method: "get", path: "/docs", operationId: "docs", tag: "Service", summary: "This document, rendered.", responses: answers({ 200: page("The API reference.") }, ALWAYS) },
    { method: "get", path: "/docs/scalar.js", operationId: "docsScript", tag: "Service", summary: "The reference page's script, from this origin.", responses: answers({ 200: { description: "JavaScript.", contentType: "text/javascript" } }, ALWAYS) },
    { method: "get", path: "/confirm", operationId: "confirmPage", tag: "Pages", summary: "Hosted page for the mailed confirmation link (token in the fragment).", responses: answers({ 200: page("The page.") }, ALWAYS) },
    { method: "get", path: "/email/confirm", operationId: "emailConfirmPage", tag: "Pages", summary: "Hosted page for the mailed email-change link.", responses: answers({ 200: page("The page.") }, ALWAYS) },
    { method: "get", path: "/email/revert", operationId: "emailRevertPage", tag: "Pages", summary: "Hosted page for the mailed link that undoes an email change.", responses: answers({ 200: page("The page.") }, ALWAYS) },
    { method: "get", path: "/reset", operationId: "resetPage", tag: "Pages", summary: "Hosted page for the mailed reset link (token in the fragment).", responses: answers({ 200: page("The page.") }, ALWAYS) },
    {
      method: "post", path: "/webhooks/resend", operationId: "resendWebhook", tag: "Webhooks",
      summary: "Resend's delivery events, Svix-signed. Exists only when RESEND_WEBHOOK_SECRET is set.",
      body: ResendEventBody,
      responses: answers({
        204: { description: "Applied (or ignored)." },
        400: { codes: ["malformed_json", "validation_failed"] },
        401: { codes: ["invalid_signature"] },
        404: { codes: ["not_found"], description: "Not configured: the path does not exist without RESEND_WEBHOOK_SECRET." },
        413: { codes: ["payload_too_large"] },
      }, USES_DB, ALWAYS),
    },

    // The admin API
    {
      method: "get", path: "/admin/v1/users", operationId: "adminListUsers", tag: "Admin", security: "admin",
      summary: "Users, a page at a time in (created_at, id) order (users:read).",
      query: ListQuery,
      responses: answers(ADMIN, { 200: { description: "A page.", body: R.AdminUserPage }, 400: { codes: ["validation_failed"] } }),
    },
    {
      method: "post", path: "/admin/v1/users", operationId: "adminInviteUser", tag: "Admin", security: "admin",
      summary: "Invite a user: mails a link to choose a password (users:write).",
      body: NewUser,
      bodyExample: { email: "ivy@example.com", name: "Ivy" },
      responses: answers(ADMIN, ADMIN_BODY, { 201: { description: "Invited.", body: R.AdminUserOnly }, 409: { codes: ["email_taken"] } }),
    },
    {
      method: "get", path: "/admin/v1/users/{id}", operationId: "adminGetUser", tag: "Admin", security: "admin",
      summary: "One user, with live sessions, factors and mail suppression (users:read).",
      responses: answers(ADMIN, { 200: { description: "The user.", body: R.AdminUserDetail }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "patch", path: "/admin/v1/users/{id}", operationId: "adminUpdateUser", tag: "Admin", security: "admin",
      summary: "Change name, roles or disabled; disabling ends every session (users:write).",
      body: UserPatch,
      bodyExample: { disabled: true },
      responses: answers(ADMIN, ADMIN_BODY, { 200: { description: "The user.", body: R.AdminUserOnly }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "delete", path: "/admin/v1/users/{id}", operationId: "adminDeleteUser", tag: "Admin", security: "admin",
      summary: "Erase the user's personal data and end every session; the id stays on the deletion's audit row (users:write).",
      responses: answers(ADMIN, { 204: { description: "Erased." }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/admin/v1/users/{id}/mfa/reset", operationId: "adminResetFactors", tag: "Admin", security: "admin",
      summary: "Remove every second factor of the user; the owner is mailed (users:write).",
      body: MfaResetBody,
      responses: answers(ADMIN, ADMIN_BODY, { 200: { description: "Reset.", body: R.MfaReset }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "get", path: "/admin/v1/users/{id}/sessions", operationId: "adminListSessions", tag: "Admin", security: "admin",
      summary: "The user's live sessions (users:read).",
      responses: answers(ADMIN, { 200: { description: "Sessions.", body: R.AdminSessions }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "delete", path: "/admin/v1/users/{id}/sessions", operationId: "adminEndSessions", tag: "Admin", security: "admin",
      summary: "End every session of the user (sessions:write).",
      responses: answers(ADMIN, { 204: { description: "Ended." }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "delete", path: "/admin/v1/users/{id}/sessions/{sid}", operationId: "adminEndSession", tag: "Admin", security: "admin",
      summary: "End one session (sessions:write).",
      responses: answers(ADMIN, { 204: { description: "Ended." }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "get", path: "/admin/v1/users/{id}/events", operationId: "adminUserEvents", tag: "Admin", security: "admin",
      summary: "The user's newest 100 audit events, with the acting key (audit:read).",
      responses: answers(ADMIN, { 200: { description: "Events.", body: R.AdminEvents } }),
    },
    {
      method: "delete", path: "/admin/v1/users/{id}/suppression", operationId: "adminLiftSuppression", tag: "Admin", security: "admin",
      summary: "Mail the address again (users:write).",
      responses: answers(ADMIN, { 204: { description: "Lifted." }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/admin/v1/keys", operationId: "adminCreateKey", tag: "Admin", security: "admin",
      summary: "A new admin API key, shown once; a key cannot grant scopes it lacks (keys:write).",
      body: NewKey,
      bodyExample: { name: "CRM sync", scopes: ["users:read"], expires_in_days: 90 },
      responses: answers(ADMIN, ADMIN_BODY, { 201: { description: "The key, once.", body: R.NewApiKey } }),
    },
    {
      method: "get", path: "/admin/v1/keys", operationId: "adminListKeys", tag: "Admin", security: "admin",
      summary: "Every key, never its secret (keys:write).",
      responses: answers(ADMIN, { 200: { description: "Keys.", body: R.ApiKeys } }),
    },
    {
      method: "delete", path: "/admin/v1/keys/{id}", operationId: "adminRevokeKey", tag: "Admin", security: "admin",
      summary: "Revoke a key (keys:write).",
      responses: answers(ADMIN, { 204: { description: "Revoked." }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "get", path: "/admin/v1/webhooks/endpoints", operationId: "adminListWebhookEndpoints", tag: "Admin", security: "admin",
      summary: "Every webhook endpoint, the configured ones first, never a secret (webhooks:read).",
      responses: answers(ADMIN, { 200: { description: "Endpoints.", body: R.WebhookEndpoints } }),
    },
    {
      method: "post", path: "/admin/v1/webhooks/endpoints", operationId: "adminCreateWebhookEndpoint", tag: "Admin", security: "admin",
      summary: "A webhook endpoint with its own signing secret, shown once; private, loopback and link-local URLs are refused (webhooks:write).",
      body: NewEndpoint,
      bodyExample: { url: "https://crm.example.com/hooks", events: ["user.created", "user.disabled"], description: "CRM" },
      responses: answers(ADMIN, ADMIN_BODY, { 201: { description: "Created; the secret once.", body: R.WebhookEndpointWithSecret } }),
    },
    {
      method: "get", path: "/admin/v1/webhooks/endpoints/{id}", operationId: "adminGetWebhookEndpoint", tag: "Admin", security: "admin",
      summary: "One webhook endpoint: enabled, why it was disabled, failing since, the previous secret's expiry (webhooks:read).",
      responses: answers(ADMIN, { 200: { description: "The endpoint.", body: R.WebhookEndpointOnly }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "patch", path: "/admin/v1/webhooks/endpoints/{id}", operationId: "adminUpdateWebhookEndpoint", tag: "Admin", security: "admin",
      summary: "Change url, events, description or enabled; enabling forgets the failure streak (webhooks:write).",
      body: EndpointPatch,
      bodyExample: { enabled: true },
      responses: answers(ADMIN, ADMIN_BODY, {
        200: { description: "The endpoint.", body: R.WebhookEndpointOnly },
        404: { codes: ["not_found"] },
        409: { codes: ["endpoint_configured"], description: "Declared in WEBHOOK_ENDPOINTS: only enabled can change." },
      }),
    },
    {
      method: "delete", path: "/admin/v1/webhooks/endpoints/{id}", operationId: "adminDeleteWebhookEndpoint", tag: "Admin", security: "admin",
      summary: "Delete an endpoint; what it had not been sent yet is dropped (webhooks:write).",
      responses: answers(ADMIN, { 204: { description: "Deleted." }, 404: { codes: ["not_found"] }, 409: { codes: ["endpoint_configured"] } }),
    },
    {
      method: "post", path: "/admin/v1/webhooks/endpoints/{id}/rotate-secret", operationId: "adminRotateWebhookSecret", tag: "Admin", security: "admin",
      summary: "A new signing secret, shown once; the old one keeps signing beside it for 24 hours (webhooks:write).",
      body: EmptyBody,
      responses: answers(ADMIN, ADMIN_BODY, {
        200: { description: "The endpoint and its new secret, once.", body: R.WebhookEndpointWithSecret },
        404: { codes: ["not_found"] },
        409: { codes: ["endpoint_configured"] },
      }),
    },
    {
      method: "get", path: "/admin/v1/webhooks/endpoints/{id}/messages", operationId: "adminListWebhookMessages", tag: "Admin", security: "admin",
      summary: "The messages queued for the endpoint, most recently queued first, with their delivery status (webhooks:read).",
      query: MessagesQuery,
      responses: answers(ADMIN, { 200: { description: "A page.", body: R.WebhookMessagePage }, 400: { codes: ["validation_failed"] }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "get", path: "/admin/v1/webhooks/endpoints/{id}/messages/{messageId}/attempts", operationId: "adminListWebhookAttempts", tag: "Admin", security: "admin",
      summary: "Every attempt to deliver one message to the endpoint: status, latency, the answer's start (webhooks:read).",
      responses: answers(ADMIN, { 200: { description: "Attempts, oldest first.", body: R.WebhookAttempts }, 404: { codes: ["not_found"] } }),
    },
    {
      method: "post", path: "/admin/v1/webhooks/endpoints/{id}/messages/{messageId}/replay", operationId: "adminReplayWebhookMessage", tag: "Admin", security: "admin",
      summary: "Send one message to the endpoint again, with its original webhook-id (webhooks:write).",
      body: EmptyBody,
      responses: answers(ADMIN, ADMIN_BODY, {
        202: { description: "Queued.", body: R.ReplayQueued },
        404: { codes: ["not_found"] },
        409: { codes: ["endpoint_disabled"] },
      }),
    },
    {
      method: "post", path: "/admin/v1/webhooks/endpoints/{id}/replay", operationId: "adminReplayWebhookEndpoint", tag: "Admin", security: "admin",
      summary: "Send the endpoint every message since a time, of the types it takes (webhooks:write).",
      body: ReplaySinceBody,
      bodyExample: { since: "2026-11-21T00:00:00Z" },
      responses: answers(ADMIN, ADMIN_BODY, {
        202: { description: "Queued.", body: R.ReplayQueued },
        404: { codes: ["not_found"] },
        409: { codes: ["endpoint_disabled"] },
      }),
    },
  ];
}

let built: Operation[] | undefined;

/** Every operation of the API, built once. */
export function operations(): Operation[] {
  return (built ??= build());
}
