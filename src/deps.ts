import { ConfigError, type Config } from "./config.ts";
import { createDb } from "./db/client.ts";
import type { Deps } from "./http/context.ts";
import { systemClock } from "./lib/clock.ts";
import { loadJwtKeys } from "./lib/crypto/jwt.ts";
import { createPasswordHasher } from "./lib/crypto/password.ts";
import { deriveSealKey } from "./lib/crypto/seal.ts";
import { deriveTokenKey } from "./lib/crypto/tokens.ts";
import { createDevMailer } from "./mail/dev-mailer.ts";
import { createResendMailer } from "./mail/resend-mailer.ts";

// Everything expensive (key imports, clients) is built here, once per isolate.
export async function buildDeps(config: Config, overrides: Partial<Deps> = {}): Promise<Deps> {
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
    ...overrides,
  };
}
