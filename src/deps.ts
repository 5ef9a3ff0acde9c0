import { ConfigError, type Config } from "./config.ts";
import type { Db } from "./db/client.ts";
import type { JwtKeys, AccessClaims } from "./lib/crypto/jwt.ts";
import type { PasswordHasher } from "./lib/crypto/password.ts";
import type { Clock } from "./lib/clock.ts";
import type { Mailer } from "./mail/types.ts";
import type { ApiKeyRow } from "./db/schema.ts";
import { createDb } from "./db/client.ts";
import { systemClock } from "./lib/clock.ts";
import { loadJwtKeys } from "./lib/crypto/jwt.ts";
import { createPasswordHasher } from "./lib/crypto/password.ts";
import { deriveSealKey } from "./lib/crypto/seal.ts";
import { deriveTokenKey } from "./lib/crypto/tokens.ts";
import { createDevMailer } from "./mail/dev-mailer.ts";
import { createResendMailer } from "./mail/resend-mailer.ts";

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
  /** AES-GCM key for outbox payloads (they can hold token links). */
  outboxKey: CryptoKey;
  /** HMAC key under which email and refresh tokens are stored (src/lib/crypto/tokens.ts). */
  tokenKey: CryptoKey;
  /**
   * Runs work after the response. Defaults to executionCtx.waitUntil; tests pass a collector so they
   * can count what the response itself cost before background work starts.
   */
  defer?: (task: () => Promise<void>) => void;
  /** Outbound HTTP for the Pwned Passwords check; defaults to the global fetch. Tests pass a stand-in. */
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

// Everything expensive (key imports, clients) is built here, once per isolate.
export async function buildDeps(config: Config, bindings: Bindings, overrides: Partial<Deps> = {}): Promise<Deps> {
  const [passwords, jwt, outboxKey, tokenKey] = await Promise.all([
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
    deriveSealKey(config.passwordPepper, "outbox v1"),
    deriveTokenKey(config.passwordPepper),
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
    outboxKey,
    tokenKey,
    ...bindings,
    ...overrides,
  };
}
