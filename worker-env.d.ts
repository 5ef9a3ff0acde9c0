// Bindings the test pool adds (vitest.config.ts); the Worker itself reads settings through
// src/config.ts only.
declare namespace Cloudflare {
  interface Env {
    LIBSQL_BASE_URL: string;
    LIBSQL_AUTH_TOKEN: string;
    RESEND_STAND_IN_URL: string;
    WEBHOOK_STAND_IN_URL: string;
    IP_RATE_LIMITER: RateLimit;
    IP_SITE_RATE_LIMITER: RateLimit;
    STRICT_IP_RATE_LIMITER: RateLimit;
    STRICT_IP_SITE_RATE_LIMITER: RateLimit;
    ADMIN_RATE_LIMITER: RateLimit;
    STRICT_ADMIN_RATE_LIMITER: RateLimit;
  }
}
