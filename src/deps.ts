import { ConfigError, type Config } from "./config.ts";
import type { Db } from "./db/client.ts";
import type { JwtKeys, AccessClaims } from "./lib/crypto/jwt.ts";
import type { PasswordHasher } from "./lib/crypto/password.ts";
import type { Clock } from "./lib/clock.ts";
import type { Mailer } from "./mail/types.ts";
import type { ApiKeyRow } from "./db/schema.ts";
import type { ConfiguredEndpoint } from "./webhooks/types.ts";
import { createDb } from "./db/client.ts";
import { systemClock } from "./lib/clock.ts";
import { once } from "./lib/once.ts";
import { loadJwtKeys } from "./lib/crypto/jwt.ts";
import { createPasswordHasher } from "./lib/crypto/password.ts";
import { deriveSealKey } from "./lib/crypto/seal.ts";
import { deriveTokenKey } from "./lib/crypto/tokens.ts";
import { createDevMailer } from "./mail/dev-mailer.ts";
import { createResendMailer } from "./mail/resend-mailer.ts";
import { configuredEndpoints } from "./webhooks/endpoints.ts";

// The wiring: what every handler finds in c.var.deps, and how src/index.ts builds it.

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  passwords: PasswordHasher;
  jwt: JwtKeys;
  mailer: Mailer;
  /** Workers Rate Limiting bindings for the per-IP budget (wrangler.toml [[ratelimits]]). */
  ipLimiters: { client: RateLimit; site: RateLimit };
  /** Requests per admin API key (wrangler.toml ADMIN_RATE_LIMITER). */
  adminLimiter: RateLimit;
  /** AES-GCM key for outbox payloads (they can hold token links); derived on first use. */
  outboxKey: () => Promise<CryptoKey>;
  /** HMAC key under which email, refresh, mfa tokens and recovery codes are stored (src/lib/crypto/tokens.ts); derived on first use. */
  tokenKey: () => Promise<CryptoKey>;
  /** AES-GCM key for the signing secrets of webhook endpoints kept in the database. */
  webhookKey: CryptoKey;
  /** WEBHOOK_ENDPOINTS with their ids (src/webhooks/endpoints.ts). */
  webhookEndpoints: ConfiguredEndpoint[];
  /** How long a webhook endpoint has to answer; 15 s (src/webhooks/send.ts) unless a test shortens it. */
  webhookTimeoutMs?: number;
  /** AES-GCM key for TOTP secrets (src/auth/totp.ts); derived on first use. */
  mfaKey: () => Promise<CryptoKey>;
  /**
   * Runs work after the response. Defaults to executionCtx.waitUntil; tests pass a collector so they
   * can count what the response itself cost before background work starts.
   */
  defer?: (task: () => Promise<void>) => void;
  /** Outbound HTTP (Pwned Passwords check, webhooks); defaults to the global fetch. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

export interface RequestInfo {
  ip: string | null;
  userAgent: string | null;
}

export type AppEnv = {
  Bindings: Record<string, unknown>;
  Variables: {
    deps: Deps;
    requestId: string;
    auth: AccessClaims;
    /** The admin API key of an /admin/v1 request (src/http/api-key.ts). */
    apiKey: ApiKeyRow;
    defer: (task: () => Promise<void>) => void;
    client: RequestInfo;
  };
};

export type Bindings = Pick<Deps, "ipLimiters" | "adminLimiter">;

/** The Workers bindings the service needs besides its settings; a missing one is named like a setting. */
export function readBindings(env: Record<string, unknown>): Bindings {
  const limiter = (name: string) => {
    const binding = env[name] as RateLimit | undefined;
    if (typeof binding?.limit !== "function") throw new ConfigError(name, "is not bound (wrangler.toml [[ratelimits]])");
    return binding;
  };
  return {
    ipLimiters: { client: limiter("IP_RATE_LIMITER"), site: limiter("IP_SITE_RATE_LIMITER") },
    adminLimiter: limiter("ADMIN_RATE_LIMITER"),
  };
}

// Built once per isolate. Settings are checked here; keys are imported and derived when a request
// first needs them (src/lib/once.ts), so a fresh isolate's first request pays only for its own.
export async function buildDeps(config: Config, bindings: Bindings, overrides: Partial<Deps> = {}): Promise<Deps> {
  const [passwords, jwt, webhookKey, webhookEndpoints] = await Promise.all([
    createPasswordHasher({ pepper: config.passwordPepper, pepperId: config.passwordPepperId }),
    loadJwtKeys({
      signingKeysJson: config.jwtSigningKeys,
      issuer: config.publicUrl,
      audience: config.jwtAudience,
      ttlSeconds: config.accessTokenTtl,
    }).catch(() => {
      // The loader's own message may describe the keys; name the setting only.
      throw new ConfigError("JWT_SIGNING_KEYS", "is not a JSON array of Ed25519 private JWKs with kid");
    }),
    // Derived here, not on first use: src/webhooks/ takes the key itself.
    deriveSealKey(config.passwordPepper, "webhook secrets v1"),
    configuredEndpoints(config.webhookEndpoints),
  ]);
  const mailer = config.resendApiKey
    ? createResendMailer({ apiKey: config.resendApiKey, baseUrl: config.resendBaseUrl })
    : createDevMailer();
  return {
    config,
    db: createDb(config.dbUrl, config.dbAuthToken),
    clock: systemClock,
    passwords,
    jwt,
    mailer,
    outboxKey: once(() => deriveSealKey(config.passwordPepper, "outbox v1")),
    tokenKey: once(() => deriveTokenKey(config.passwordPepper)),
    mfaKey: once(() => deriveSealKey(config.passwordPepper, "mfa secrets v1")),
    webhookKey,
    webhookEndpoints,
    ...bindings,
    ...overrides,
  };
}
