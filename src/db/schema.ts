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
  },
  (t) => [index("sessions_user").on(t.userId)],
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
  ],
);

export const suppressions = sqliteTable("suppressions", {
  email: text("email").primaryKey(),
  reason: text("reason").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const webhookEvents = sqliteTable("webhook_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at").notNull(),
});

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
  (t) => [index("rate_limits_updated").on(t.updatedAt)],
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
  (t) => [index("audit_events_user").on(t.userId, t.createdAt)],
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
