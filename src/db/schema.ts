import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Every time is stored as milliseconds since the epoch (integer), set by the app's Clock so tests
// can move time without sleeping.

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    // Trimmed, NFC-normalised and lower-cased: one account per address.
    email: text("email").notNull(),
    name: text("name"),
    passwordHash: text("password_hash").notNull(),
    roles: text("roles", { mode: "json" }).$type<string[]>().notNull().default(sql`'["user"]'`),
    locale: text("locale").notNull().default("en"),
    emailConfirmedAt: integer("email_confirmed_at"),
    disabledAt: integer("disabled_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email), index("users_created").on(t.createdAt, t.id)],
);

// A registration waits here until its address is confirmed; only then does a users row exist. Several
// may wait for one address (an attacker's and the owner's), each with its own password: confirming
// needs the mailed token and a proof of which registration the confirmer made.
export const registrations = sqliteTable(
  "registrations",
  {
    /** Becomes the user's id when this registration is confirmed. */
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name"),
    locale: text("locale").notNull(),
    passwordHash: text("password_hash").notNull(),
    /** PKCE S256 challenge (base64url SHA-256 of the verifier the registering browser keeps). */
    codeChallenge: text("code_challenge"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("registrations_email").on(t.email, t.createdAt), index("registrations_expires").on(t.expiresAt)],
);

export type EmailTokenPurpose = "confirm_email" | "reset_password" | "unlock_login" | "change_email" | "revert_email";

// Only an HMAC of a token is stored; the token itself exists in the mail (and the outbox,
// encrypted) alone. Confirmation tokens belong to an address (no user exists yet); the others to a
// user. `email` is the address the mail went to (for an email change, the new address; for its
// cancel/undo link, the address to restore). A mail's link and its 6-digit code are one row: using
// either spends both.
export const emailTokens = sqliteTable(
  "email_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    email: text("email"),
    purpose: text("purpose").$type<EmailTokenPurpose>().notNull(),
    tokenHash: text("token_hash").notNull(),
    /** Wrong proofs (or unlock codes) presented with this token; at the limit the token is spent. */
    failedAttempts: integer("failed_attempts").notNull().default(0),
    /** HMAC of the mail's 6-digit code (src/auth/email-tokens.ts); null once voided by wrong codes. */
    codeHash: text("code_hash"),
    /** Wrong codes typed for this row's address; at the limit the code (not the link) is void. */
    codeFailedAttempts: integer("code_failed_attempts").notNull().default(0),
    /** Email change: the session that asked for it, which is the one kept when the change happens. */
    sessionId: text("session_id"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [
    uniqueIndex("email_tokens_hash_unique").on(t.tokenHash),
    index("email_tokens_user_purpose").on(t.userId, t.purpose),
    index("email_tokens_email_purpose").on(t.email, t.purpose),
    // Retention (src/db/retention.ts) finds expired rows by these, without reading the table.
    index("email_tokens_expires").on(t.expiresAt),
  ],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason"),
    /** Set when the session is opened and at each refresh (never by requests that only verify the access token). */
    lastUsedAt: integer("last_used_at"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** How the session was opened (RFC 8176 values: pwd, otp, hwk); its access tokens carry it. */
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull().default(sql`'["pwd"]'`),
  },
  (t) => [index("sessions_user").on(t.userId), index("sessions_expires").on(t.expiresAt), index("sessions_revoked").on(t.revokedAt).where(sql`${t.revokedAt} is not null`)],
);

// One row per issued refresh token. Rotation marks the presented row used and inserts its
// successor; a used row presented again means the token leaked, and the session is revoked.
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    /** The successor's id, set when this token is rotated; the successor is inserted from it. */
    replacedBy: text("replaced_by"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_session").on(t.sessionId),
    uniqueIndex("refresh_tokens_replaced_by_unique").on(t.replacedBy),
    index("refresh_tokens_expires").on(t.expiresAt),
  ],
);

export type OutboxStatus =
  | "pending"
  | "sending"
  | "sent"
  | "delivered"
  | "delayed"
  | "bounced"
  | "complained"
  | "failed"
  | "suppressed";

// Mail is written here in the same batch as the change that causes it, then delivered from
// waitUntil or the cron. The payload (which may hold a token link) is encrypted.
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id"),
    toEmail: text("to_email").notNull(),
    template: text("template").notNull(),
    locale: text("locale").notNull(),
    payload: text("payload"),
    status: text("status").$type<OutboxStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    claimedUntil: integer("claimed_until"),
    deadlineAt: integer("deadline_at").notNull(),
    lastError: text("last_error"),
    /**
     * The Idempotency-Key of the last provider call that may have delivered this mail without us
     * knowing (no answer, or a 5xx): the retry must repeat that call under that key. Null when the
     * provider answered for certain, so the mail may go in any batch. src/mail/outbox.ts.
     */
    sendKey: text("send_key"),
    providerId: text("provider_id"),
    /**
     * The mail about a deleted account: once it is finished (sent or given up), its recipient is
     * erased too, so nothing in the database names the address any more.
     */
    forgetRecipient: integer("forget_recipient", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("outbox_due").on(t.status, t.nextAttemptAt),
    index("outbox_provider").on(t.providerId),
    index("outbox_to_template").on(t.toEmail, t.template, t.createdAt),
    index("outbox_finished").on(t.status, t.updatedAt),
    index("outbox_send_key").on(t.sendKey).where(sql`${t.sendKey} is not null`),
    // An account's erasure deletes its mail, to whichever address it went.
    index("outbox_user").on(t.userId).where(sql`${t.userId} is not null`),
  ],
);

export const suppressions = sqliteTable("suppressions", {
  email: text("email").primaryKey(),
  reason: text("reason").notNull(),
  createdAt: integer("created_at").notNull(),
});

// Ids of webhooks received from Resend (inbound), so a retried one is applied once. Outbound webhooks
// (ours, to integrators) are the webhook_endpoints / _messages / _deliveries / _attempts tables below.
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("webhook_events_received").on(t.receivedAt)],
);

// Counters shared by every isolate and location (they live in the database): fixed windows for
// request and mail budgets, and consecutive failures (with the lock-out end) for logins.
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    count: integer("count").notNull(),
    windowEndsAt: integer("window_ends_at").notNull(),
    /** Last hit; login failure rows are forgotten a day after it. */
    updatedAt: integer("updated_at"),
  },
  (t) => [index("rate_limits_updated").on(t.updatedAt), index("rate_limits_window").on(t.windowEndsAt)],
);

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    userId: text("user_id"),
    type: text("type").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** Who acted when it was not the user: `key:<api key id>` for the admin API. */
    actor: text("actor"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_events_user").on(t.userId, t.createdAt), index("audit_events_created").on(t.createdAt)],
);

// Outbound webhooks (src/webhooks/). An endpoint is created through src/webhooks/endpoints.ts
// (source 'api'), or declared in WEBHOOK_ENDPOINTS (source 'config': the row holds only its state,
// written the first time it needs one; url, secret and events stay in the setting).
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  source: text("source").$type<"api" | "config">().notNull(),
  url: text("url").notNull(),
  description: text("description"),
  /** The event types it receives; null means all. */
  eventTypes: text("event_types", { mode: "json" }).$type<string[] | null>(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  /** Why it was disabled: the endpoint answered 410, failed for days, or an operator did it. */
  disabledReason: text("disabled_reason"),
  disabledAt: integer("disabled_at"),
  /** whsec_… sealed under a key derived from PASSWORD_PEPPER, bound to the row id ('api' rows only). */
  secret: text("secret"),
  /** The secret before the last rotation, still signing until previousSecretExpiresAt. */
  previousSecret: text("previous_secret"),
  previousSecretExpiresAt: integer("previous_secret_expires_at"),
  /** First failed attempt since the last success; five days of failure disables the endpoint. */
  failingSince: integer("failing_since"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

// One row per event, written in the batch of the change that causes it. `seq` orders them (it only
// grows, in commit order) and is sent as data.sequence; `id` is the webhook-id receivers dedupe on.
export const webhookMessages = sqliteTable(
  "webhook_messages",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    type: text("type").notNull(),
    userId: text("user_id"),
    /** The payload's data (JSON) as of the change: the user's public fields and the event's own. */
    data: text("data").notNull(),
    occurredAt: integer("occurred_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_messages_id_unique").on(t.id),
    index("webhook_messages_occurred").on(t.occurredAt),
    // An account's erasure redacts the messages about it.
    index("webhook_messages_user").on(t.userId).where(sql`${t.userId} is not null`),
  ],
);

export type WebhookDeliveryStatus = "pending" | "sending" | "succeeded" | "failed";

// One row per message and endpoint, fanned out in the same batch as the message; claimed with a
// lease for each attempt, like the mail outbox.
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    status: text("status").$type<WebhookDeliveryStatus>().notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    claimedUntil: integer("claimed_until"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_message_endpoint").on(t.messageId, t.endpointId),
    index("webhook_deliveries_due").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.status),
    // An endpoint's messages, newest first, a page at a time (the admin API).
    index("webhook_deliveries_endpoint_order").on(t.endpointId, t.id),
  ],
);

// Every attempt, kept 30 days: what the endpoint answered and how long it took.
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: integer("delivery_id").notNull(),
    messageId: text("message_id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    attempt: integer("attempt").notNull(),
    /** The HTTP status; null when no answer came (refused, reset, timed out). */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    /** At most 1 KiB of the answer's body. */
    responseExcerpt: text("response_excerpt"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_attempts_message").on(t.messageId), index("webhook_attempts_created").on(t.createdAt)],
);

export type ApiScope = "users:read" | "users:write" | "sessions:write" | "webhooks:read" | "webhooks:write" | "keys:write" | "audit:read";

// Admin API keys (src/routes/admin.ts). Only an HMAC of the key is stored, under the token key; the
// prefix and last four characters are kept so people can tell their keys apart.
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** `ea_<env>_` and the key's first four random characters. */
    prefix: text("prefix").notNull(),
    last4: text("last4").notNull(),
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<ApiScope[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    /** `key:<id>` of the key that made it, or `cli`. */
    createdBy: text("created_by").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.keyHash)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;

// A user's authenticator app (RFC 6238). At most one per user; it counts as a factor once a first
// code has activated it.
export const totpFactors = sqliteTable(
  "totp_factors",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The base32 secret, sealed (AES-GCM) to this row and its user: src/auth/totp.ts. */
    secret: text("secret").notNull(),
    activatedAt: integer("activated_at"),
    /** The newest time step whose code was accepted; only a later step's code is accepted again. */
    lastUsedStep: integer("last_used_step").notNull().default(0),
    lastUsedAt: integer("last_used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("totp_factors_user_unique").on(t.userId)],
);

// WebAuthn credentials: a second factor after the password, and a sign-in of their own.
export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** base64url, as the browser reports it. */
    credentialId: text("credential_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    /** The authenticator's signature counter; a value that does not grow means a cloned key (0 = not kept). */
    counter: integer("counter").notNull(),
    transports: text("transports", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Synced (multi-device) passkey or one bound to a device. */
    backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("passkeys_credential_unique").on(t.credentialId), index("passkeys_user").on(t.userId)],
);

// Single-use recovery codes, stored as HMACs bound to their user (src/lib/crypto/recovery-codes.ts).
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("recovery_codes_user").on(t.userId)],
);

export type MfaTokenPurpose = "mfa_login" | "mfa_enroll" | "webauthn_register" | "webauthn_login" | "webauthn_reauth";

// Short-lived, single-use tokens of the second-factor flows, stored as HMACs: the mfa_token between
// the password and the second factor (or enrolment, under MFA_REQUIRED), and WebAuthn challenges.
export const mfaTokens = sqliteTable(
  "mfa_tokens",
  {
    id: text("id").primaryKey(),
    /** Null only for a passwordless sign-in's challenge, which belongs to nobody until it is answered. */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose").$type<MfaTokenPurpose>().notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The client it was issued to (network and user agent, hashed); another client cannot use it. */
    clientHash: text("client_hash").notNull(),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [uniqueIndex("mfa_tokens_hash_unique").on(t.tokenHash), index("mfa_tokens_expires").on(t.expiresAt), index("mfa_tokens_user").on(t.userId)],
);
