import * as z from "zod";
import { hostedPageLinks } from "./lib/links.ts";
import { isLoopbackHost } from "./lib/loopback.ts";
import { webhookSecretProblem } from "./lib/crypto/webhook-secrets.ts";
import { isWebhookEventType, type WebhookEventType } from "./lib/webhook-events.ts";
import { webhookUrlProblem } from "./lib/webhook-url.ts";
import { originUnderRelyingParty, relyingPartyProblem } from "./lib/relying-party.ts";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const urlTemplate = z
  .string()
  .url()
  .refine((v) => v.includes("{token}"), "must contain {token}")
  .optional();

// Every setting the Worker reads. Bindings only: nothing comes from process.env. Built by the first
// parseConfig (per isolate), not while the Worker's modules load: it is some forty schemas.
const buildEnvSchema = () => z.object({
  ENVIRONMENT: z.enum(["production", "development", "test"]).default("production"),
  APP_NAME: z.string().min(1).max(100).default("edge-auth"),
  // The hosted pages' accent (buttons, links) and logo. The colour goes into CSS, so only a hex
  // colour is taken; the logo is the one request a page may make elsewhere (its origin alone is
  // added to the pages' CSP).
  BRAND_COLOR: optionalText.refine((v) => v === undefined || /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(v), "must be a hex colour like #4f46e5"),
  LOGO_URL: optionalText.refine((v) => v === undefined || /^https:\/\/[^\s"'<>]+$/.test(v) && URL.canParse(v), "must be an https:// URL"),
  PUBLIC_URL: z
    .string()
    .url()
    .transform((v) => v.replace(/\/+$/, "")),
  JWT_AUDIENCE: optionalText,
  DB_URL: z.string().url(),
  DB_AUTH_TOKEN: optionalText,
  JWT_SIGNING_KEYS: z.string().min(1),
  PASSWORD_PEPPER: z.string().min(32, "must be at least 32 characters"),
  PASSWORD_PEPPER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,16}$/)
    .default("p1"),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  ACCESS_TOKEN_TTL: seconds(900),
  REFRESH_TOKEN_TTL: seconds(30 * 24 * 3600),
  // No session outlives its creation by more than this, however often it is refreshed.
  SESSION_MAX_AGE: seconds(90 * 24 * 3600),
  CONFIRM_TOKEN_TTL: seconds(24 * 3600),
  RESET_TOKEN_TTL: seconds(1800),
  CONFIRM_URL: urlTemplate,
  RESET_URL: urlTemplate,
  LOGIN_URL: z.string().url().optional(),
  MAIL_FROM: z.string().min(3).default("edge-auth <no-reply@localhost>"),
  RESEND_API_KEY: optionalText,
  RESEND_BASE_URL: z.string().url().optional(),
  // The cron spaces its calls to Resend to this (Resend's default limit is 2 a second per team).
  RESEND_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(2),
  // Resend shows it as whsec_<base64>; checked here so a pasted-wrong secret fails at start, not per webhook.
  RESEND_WEBHOOK_SECRET: optionalText.refine(
    (v) => v === undefined || (/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(v) && (v.length - 6) % 4 === 0),
    "must be whsec_ followed by base64, as Resend shows it",
  ),
  MAIL_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).max(100).default(5),
  // Password guessing (src/limits/login-guard.ts). The per-IP budget is the IP_*_RATE_LIMITER
  // bindings in wrangler.toml.
  LOGIN_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCKOUT_BASE_SECONDS: seconds(30),
  LOGIN_LOCKOUT_MAX_SECONDS: seconds(900),
  // Failed logins for one address from all clients in 24 h before the right password also needs a
  // mailed unlock code.
  LOGIN_FAILURES_PER_DAY: z.coerce.number().int().min(5).max(100_000).default(50),
  PWNED_PASSWORDS_CHECK: z.enum(["true", "false"]).default("false"),
  PWNED_PASSWORDS_URL: z.string().url().default("https://api.pwnedpasswords.com"),
  PWNED_PASSWORDS_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(1500),
  // Outbound webhooks declared in configuration (a secret: it holds signing secrets), a JSON array of
  // {"url", "secret", "events"?}; endpoints kept in the database come on top (src/webhooks/).
  WEBHOOK_ENDPOINTS: optionalText,
  // Subrequests one cron run may make: the Workers plan's limit per invocation (50 on Workers Free,
  // 10,000 on Paid) or less. Mail, webhooks and housekeeping each take a share (src/index.ts).
  CRON_SUBREQUESTS: z.coerce.number().int().min(20).max(10_000).default(1000),
  BENCH_ROUTES: z.enum(["true", "false"]).default("false"),
  // Second factors (README, "Second factors"). Users without one are asked to enrol at login.
  MFA_REQUIRED: z.enum(["true", "false"]).default("false"),
  // The domain passkeys belong to; unset, passkeys are off. Checked below against public suffixes.
  WEBAUTHN_RP_ID: optionalText,
  // Unset (or blank): none, and in development the usual local dev servers (DEV_SERVER_ORIGINS).
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ?.split(",")
        .map((o) => o.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    ),
});

/** Where a single-page app's dev server usually runs (Vite, Next.js/Create React App, webpack/Vue CLI). */
export const DEV_SERVER_ORIGINS = ["5173", "3000", "8080"].flatMap((port) => [
  `http://localhost:${port}`,
  `http://127.0.0.1:${port}`,
]);

let envSchema: ReturnType<typeof buildEnvSchema> | undefined;
const envSchemaOnce = () => (envSchema ??= buildEnvSchema());

/** Every setting's name, e.g. for the start script to take overrides from its environment. */
export function settingNames(): string[] {
  return Object.keys(envSchemaOnce().shape);
}

export type Config = ReturnType<typeof toConfig>;

/** A WEBHOOK_ENDPOINTS entry; `events` null means every event. */
export interface ConfiguredWebhook {
  url: string;
  secret: string;
  events: WebhookEventType[] | null;
}

export const MAX_CONFIGURED_WEBHOOKS = 20;

const WebhookEntrySchema = z.strictObject({
  url: z.string(),
  secret: z.string(),
  events: z.array(z.string()).min(1).optional(),
});

// Problems name the entry and the field, never the value: the setting holds secrets.
function parseWebhookEndpoints(raw: string | undefined, environment: string): ConfiguredWebhook[] {
  if (raw === undefined) return [];
  const fail = (problem: string): never => {
    throw new ConfigError("WEBHOOK_ENDPOINTS", problem);
  };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail("is not JSON (expected an array of {url, secret, events?})");
  }
  if (!Array.isArray(json)) return fail("must be a JSON array of {url, secret, events?}");
  if (json.length > MAX_CONFIGURED_WEBHOOKS) fail(`may declare at most ${MAX_CONFIGURED_WEBHOOKS} endpoints`);
  const seen = new Set<string>();
  return json.map((item, i) => {
    const at = `entry ${i + 1}`;
    const parsed = WebhookEntrySchema.safeParse(item);
    if (!parsed.success) return fail(`${at} must be {url, secret, events?} with string values`);
    const { url, secret, events } = parsed.data;
    const urlProblem = webhookUrlProblem(url, { allowLoopback: environment !== "production" });
    if (urlProblem) fail(`${at}: url ${urlProblem}`);
    const secretProblem = webhookSecretProblem(secret);
    if (secretProblem) fail(`${at}: secret ${secretProblem}`);
    const unknown = events?.find((name) => !isWebhookEventType(name));
    if (unknown !== undefined) fail(`${at}: events names an unknown event type (${JSON.stringify(unknown.slice(0, 40))})`);
    if (seen.has(url)) fail(`${at}: url is declared twice`);
    seen.add(url);
    return { url, secret, events: events ? [...new Set(events as WebhookEventType[])] : null };
  });
}

export class ConfigError extends Error {
  readonly setting: string;
  readonly problem: string;

  constructor(setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.name = "ConfigError";
    this.setting = setting;
    this.problem = problem;
  }
}

export function parseConfig(env: Record<string, unknown>): Config {
  const parsed = envSchemaOnce().safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? "env");
    const problem = env[setting] === undefined ? "is required but not set" : issue.message;
    throw new ConfigError(setting, problem);
  }
  const e = parsed.data;
  if (e.ENVIRONMENT === "production" && !e.RESEND_API_KEY) {
    throw new ConfigError("RESEND_API_KEY", "is required in production (mail cannot be sent)");
  }
  // Development serves the dev mailbox, which shows every token link: it may only run on this machine.
  if (e.ENVIRONMENT === "development" && !isLoopbackHost(new URL(e.PUBLIC_URL).host)) {
    throw new ConfigError("ENVIRONMENT", "is development, which needs a loopback PUBLIC_URL (localhost, 127.0.0.1 or [::1])");
  }
  if (e.BENCH_ROUTES === "true" && e.ENVIRONMENT !== "development") {
    throw new ConfigError("BENCH_ROUTES", "is only allowed with ENVIRONMENT=development");
  }
  const config = toConfig(e);
  if (config.webauthnRpId !== undefined) {
    const problem = relyingPartyProblem(config.webauthnRpId, config.environment);
    if (problem) throw new ConfigError("WEBAUTHN_RP_ID", problem);
    if (config.webauthnOrigins.length === 0) {
      throw new ConfigError("WEBAUTHN_RP_ID", "covers neither PUBLIC_URL nor any of ALLOWED_ORIGINS (each origin's host must be it or under it)");
    }
  }
  return config;
}

// The settings as the code uses them; Config's type is this function's result, so each setting is
// named in the schema above and mapped here, and nowhere else.
function toConfig(e: z.output<ReturnType<typeof buildEnvSchema>>) {
  const pages = hostedPageLinks(e.PUBLIC_URL);
  const allowedOrigins = e.ALLOWED_ORIGINS?.length ? e.ALLOWED_ORIGINS : e.ENVIRONMENT === "development" ? DEV_SERVER_ORIGINS : [];
  return {
    environment: e.ENVIRONMENT,
    appName: e.APP_NAME,
    brandColor: e.BRAND_COLOR,
    logoUrl: e.LOGO_URL,
    publicUrl: e.PUBLIC_URL,
    jwtAudience: e.JWT_AUDIENCE ?? e.PUBLIC_URL,
    dbUrl: e.DB_URL,
    dbAuthToken: e.DB_AUTH_TOKEN,
    jwtSigningKeys: e.JWT_SIGNING_KEYS,
    passwordPepper: e.PASSWORD_PEPPER,
    passwordPepperId: e.PASSWORD_PEPPER_ID,
    passwordMinLength: e.PASSWORD_MIN_LENGTH,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    sessionMaxAge: e.SESSION_MAX_AGE,
    confirmTokenTtl: e.CONFIRM_TOKEN_TTL,
    resetTokenTtl: e.RESET_TOKEN_TTL,
    confirmUrl: e.CONFIRM_URL ?? pages.confirm,
    resetUrl: e.RESET_URL ?? pages.reset,
    loginUrl: e.LOGIN_URL ?? e.PUBLIC_URL,
    /** The hosted page that asks for an address and sends a reset link (linked from mails). */
    forgotPasswordUrl: pages.forgotPassword,
    /** The hosted pages of an email change: the new address's link, the old address's cancel/undo link. */
    emailChangeConfirmUrl: pages.emailChangeConfirm,
    emailChangeRevertUrl: pages.emailChangeRevert,
    mailFrom: e.MAIL_FROM,
    resendApiKey: e.RESEND_API_KEY,
    resendBaseUrl: e.RESEND_BASE_URL,
    resendWebhookSecret: e.RESEND_WEBHOOK_SECRET,
    resendRequestsPerSecond: e.RESEND_REQUESTS_PER_SECOND,
    mailPerAddressPerHour: e.MAIL_PER_ADDRESS_PER_HOUR,
    loginLockoutThreshold: e.LOGIN_LOCKOUT_THRESHOLD,
    loginLockoutBaseSeconds: e.LOGIN_LOCKOUT_BASE_SECONDS,
    loginLockoutMaxSeconds: Math.max(e.LOGIN_LOCKOUT_MAX_SECONDS, e.LOGIN_LOCKOUT_BASE_SECONDS),
    loginFailuresPerDay: e.LOGIN_FAILURES_PER_DAY,
    pwnedPasswordsCheck: e.PWNED_PASSWORDS_CHECK === "true",
    pwnedPasswordsUrl: e.PWNED_PASSWORDS_URL,
    pwnedPasswordsTimeoutMs: e.PWNED_PASSWORDS_TIMEOUT_MS,
    allowedOrigins,
    cronSubrequests: e.CRON_SUBREQUESTS,
    webhookEndpoints: parseWebhookEndpoints(e.WEBHOOK_ENDPOINTS, e.ENVIRONMENT),
    benchRoutes: e.BENCH_ROUTES === "true",
    mfaRequired: e.MFA_REQUIRED === "true",
    webauthnRpId: e.WEBAUTHN_RP_ID,
    /** The pages passkey ceremonies may come from: ALLOWED_ORIGINS and PUBLIC_URL under the RP ID. */
    webauthnOrigins: e.WEBAUTHN_RP_ID === undefined
      ? []
      : [...new Set([e.PUBLIC_URL, ...allowedOrigins])].filter((origin) => originUnderRelyingParty(origin, e.WEBAUTHN_RP_ID!)),
  };
}
