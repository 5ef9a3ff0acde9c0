import * as z from "zod";
import { ERRORS, type ErrorCode } from "../lib/errors.ts";

// The bodies the API answers with, as zod schemas: the OpenAPI document is built from them, and
// the API tests check every response against them (test/support/service.ts). Objects are not
// strict: a new field is not a breaking change, a missing or mistyped one is.

/** Every code a client can see, from the one catalogue. */
export const PUBLIC_CODES = [...new Set(Object.entries(ERRORS).map(([name, entry]) => (entry[2] ?? name) as ErrorCode))] as [ErrorCode, ...ErrorCode[]];

// Built by the first caller (the OpenAPI document, the tests' conformance check), not at module load:
// every isolate's start-up would otherwise construct these few hundred schemas, which no request
// but GET /openapi.json uses.
function build() {
  const time = z.string().meta({ format: "date-time" });
  const timeOrNull = time.nullable();

  const ErrorBody = z.object({
      error: z.object({
        code: z.enum(PUBLIC_CODES),
        message: z.string().meta({ description: "One sentence for a person." }),
        request_id: z.string(),
        details: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: "validation_failed only: one entry per field." }),
      }),
    });

  const Message = z.object({ message: z.string() });

  const Session = z.object({
    access_token: z.string().meta({ description: "JWT (typ at+jwt, EdDSA); verify against /.well-known/jwks.json." }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    refresh_token: z.string(),
    refresh_expires_in: z.number().int(),
  });

  const User = z.object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    roles: z.array(z.string()),
    email_confirmed: z.boolean(),
    created_at: time,
  });

  const UserAndSession = z.object({ user: User, session: Session });
  const SessionOnly = z.object({ session: Session });

  const methods = z.array(z.enum(["totp", "passkey"]));
  const MfaRequired = z.object({
    mfa_required: z.literal(true),
    mfa_token: z.string(),
    expires_in: z.number().int(),
    methods: z.array(z.enum(["totp", "passkey", "recovery_code"])),
    passkey_options: z.record(z.string(), z.unknown()).optional(),
  });
  const MfaEnrollmentRequired = z.object({
    user: User.optional(),
    mfa_enrollment_required: z.literal(true),
    mfa_token: z.string(),
    expires_in: z.number().int(),
    methods,
  });
  const LoginAnswer = z.union([UserAndSession, MfaRequired, MfaEnrollmentRequired]);
  const ConfirmAnswer = z.union([UserAndSession, MfaEnrollmentRequired]);
  const MfaLoginAnswer = UserAndSession.extend({ recovery_codes_left: z.number().int().optional(), notice: z.string().optional() });

  const Me = z.object({
    user: z.object({ id: z.string(), email: z.string(), roles: z.array(z.string()), email_confirmed: z.boolean() }),
    session: z.object({ id: z.string(), expires_at: time, amr: z.array(z.string()) }),
  });

  const event = { type: z.string(), time, ip: z.string().nullable(), user_agent: z.string().nullable() };
  const Events = z.object({ events: z.array(z.object(event)) });

  const AccountExport = z.object({
    exported_at: time,
    account: z.object({
      id: z.string(),
      email: z.string(),
      name: z.string().nullable(),
      locale: z.string().nullable(),
      roles: z.array(z.string()),
      email_confirmed_at: timeOrNull,
      created_at: time,
      updated_at: timeOrNull,
    }),
    sessions: z.array(
      z.object({
        id: z.string(),
        created_at: time,
        last_used_at: timeOrNull,
        expires_at: time,
        ended_at: timeOrNull,
        ended_because: z.string().nullable(),
        ip: z.string().nullable(),
        user_agent: z.string().nullable(),
        current: z.boolean(),
      }),
    ),
    audit_events: z.array(z.object(event)),
  });
  const OwnSessions = z.object({
    sessions: z.array(
      z.object({ id: z.string(), created_at: time, last_used_at: time, user_agent: z.string().nullable(), ip: z.string().nullable(), current: z.boolean() }),
    ),
  });
  const EmailChanged = z.object({ message: z.string(), email: z.string() });
  const EmailReverted = EmailChanged.extend({ reverted: z.boolean() });

  const Jwks = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string() })) });
  const Health = z.object({ status: z.literal("ok") });

  const Factor = z.object({
    id: z.string(),
    type: z.enum(["totp", "passkey"]),
    name: z.string().nullable().optional(),
    backed_up: z.boolean().optional(),
    created_at: time,
    last_used_at: timeOrNull,
  });
  const Factors = z.object({ factors: z.array(Factor), recovery_codes_left: z.number().int() });
  const MfaStatus = Factors.extend({ mfa_required: z.boolean(), passkeys_enabled: z.boolean() });
  const TotpEnrollment = z.object({ secret: z.string(), otpauth_uri: z.string(), qr_svg: z.string() });
  const recoveryCodes = {
    recovery_codes: z.array(z.string()).optional().meta({ description: "Shown once, when the first factor is set up." }),
    recovery_codes_left: z.number().int().optional(),
    user: User.optional().meta({ description: "On the enrolment path (mfa_token) only, with session." }),
    session: Session.optional(),
  };
  const TotpActivated = z.object({ enabled: z.literal(true), ...recoveryCodes });
  const PasskeyAdded = z.object({ passkey: z.object({ id: z.string(), name: z.string().nullable(), backed_up: z.boolean() }), ...recoveryCodes });
  const WebAuthnOptions = z.object({ options: z.record(z.string(), z.unknown()), expires_in: z.number().int() });
  const RecoveryCodes = z.object({ recovery_codes: z.array(z.string()) });

  const AdminUser = User.extend({ disabled: z.boolean(), updated_at: timeOrNull });
  const AdminUserPage = z.object({ users: z.array(AdminUser), next_cursor: z.string().nullable() });
  const AdminUserOnly = z.object({ user: AdminUser });
  const AdminUserDetail = z.object({
    user: AdminUser.extend({
      sessions_count: z.number().int(),
      mfa: z.object({ enabled: z.boolean(), factors: methods, recovery_codes_left: z.number().int() }),
      suppression: z.object({ suppressed: z.boolean(), reason: z.string().optional(), since: timeOrNull.optional() }),
    }),
  });
  const MfaReset = z.object({ reset: z.literal(true) });
  const AdminSessions = z.object({
    sessions: z.array(z.object({ id: z.string(), created_at: time, expires_at: time, ip: z.string().nullable(), user_agent: z.string().nullable() })),
  });
  const AdminEvents = z.object({ events: z.array(z.object({ ...event, actor: z.string().nullable() })) });
  const ApiKey = z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    last4: z.string(),
    scopes: z.array(z.string()),
    created_at: time,
    created_by: z.string().nullable(),
    expires_at: timeOrNull,
    last_used_at: timeOrNull,
    revoked_at: timeOrNull,
  });
  const NewApiKey = z.object({ key: z.string().meta({ description: "The key itself: shown this once." }), api_key: ApiKey });
  const ApiKeys = z.object({ api_keys: z.array(ApiKey) });

  const WebhookEndpoint = z.object({
    id: z.string(),
    source: z.enum(["api", "config"]).meta({ description: "api: made through this API; config: declared in WEBHOOK_ENDPOINTS (only enabled or disabled here)." }),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()).nullable().meta({ description: "The event types it receives; null: every type." }),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().meta({ description: "Why it is disabled: it answered 410, every attempt failed for 5 days, or an operator did it." }),
    disabled_at: timeOrNull,
    failing_since: timeOrNull.meta({ description: "The first failed attempt since the last success; null while it succeeds." }),
    previous_secret_expires_at: timeOrNull.meta({ description: "After a rotation: until then the previous secret signs too." }),
    created_at: timeOrNull,
    updated_at: timeOrNull,
  });
  const webhookSecret = z.string().meta({ description: "whsec_…: the signing secret, shown this once." });
  const WebhookEndpointOnly = z.object({ endpoint: WebhookEndpoint });
  const WebhookEndpointWithSecret = z.object({ endpoint: WebhookEndpoint, secret: webhookSecret });
  const WebhookEndpoints = z.object({ endpoints: z.array(WebhookEndpoint) });
  const WebhookMessagePage = z.object({
    messages: z.array(
      z.object({
        id: z.string().meta({ description: "The message id: its webhook-id header and data.event_id." }),
        type: z.string(),
        sequence: z.number().int(),
        occurred_at: time,
        status: z.enum(["pending", "sending", "succeeded", "failed"]).meta({ description: "Of its delivery to this endpoint." }),
        attempts: z.number().int(),
        last_status: z.number().int().nullable(),
        last_error: z.string().nullable(),
        next_attempt_at: timeOrNull,
        updated_at: time,
      }),
    ),
    next_cursor: z.string().nullable(),
  });
  const WebhookAttempts = z.object({
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        at: time,
        status: z.number().int().nullable().meta({ description: "The HTTP status; null when no answer came." }),
        latency_ms: z.number().int(),
        response_excerpt: z.string().nullable().meta({ description: "At most the first 1 KiB of the answer." }),
        error: z.string().nullable(),
      }),
    ),
  });
  const ReplayQueued = z.object({ queued: z.number().int().meta({ description: "Deliveries queued: sent right after this answer, or by the cron." }) });

  // Outbound webhooks (src/webhooks/): Standard Webhooks' {type, timestamp, data}, data leading with
  // the event's id and sequence and the user as the API shows it, then the event's own fields. The
  // events of an erased account name it by its id alone.
  const webhookData = { event_id: z.string(), sequence: z.number().int(), user: User };
  const ErasedUser = z.object({ id: z.string() });
  const WEBHOOK_EVENT_FIELDS: Record<string, z.ZodRawShape> = {
    "user.created": {},
    "user.confirmed": {},
    "user.updated": { changed: z.array(z.string()) },
    "user.disabled": { reason: z.string().nullable() },
    "user.deleted": { user: ErasedUser },
    "session.created": { session_id: z.string(), amr: z.array(z.string()), reason: z.string() },
    "session.revoked": {
      user: z.union([User, ErasedUser]).meta({ description: "The id alone when the account was deleted (reason user_deleted)." }),
      session_ids: z.array(z.string()),
      reason: z.string(),
    },
    "password.reset": {},
    "password.changed": {},
    "email.changed": { previous_email: z.string(), reason: z.enum(["confirmed", "reverted"]) },
    "mfa.enabled": { method: z.string() },
    "mfa.disabled": { method: z.string() },
  };
  function webhookPayload(type: string) {
    return z.object({ type: z.literal(type), timestamp: time, data: z.object({ ...webhookData, ...WEBHOOK_EVENT_FIELDS[type] }) });
  }

  return { ErrorBody, Message, Session, User, UserAndSession, SessionOnly, LoginAnswer, ConfirmAnswer, MfaLoginAnswer, Me, Events, AccountExport, OwnSessions, EmailChanged, EmailReverted, Jwks, Health, Factors, MfaStatus, TotpEnrollment, TotpActivated, PasskeyAdded, WebAuthnOptions, RecoveryCodes, AdminUser, AdminUserPage, AdminUserOnly, AdminUserDetail, MfaReset, AdminSessions, AdminEvents, NewApiKey, ApiKeys, WebhookEndpointOnly, WebhookEndpointWithSecret, WebhookEndpoints, WebhookMessagePage, WebhookAttempts, ReplayQueued, WEBHOOK_EVENT_FIELDS, webhookPayload };
}

let built: ReturnType<typeof build> | undefined;

/** The response schemas, built once. */
export function responseSchemas(): ReturnType<typeof build> {
  return (built ??= build());
}
