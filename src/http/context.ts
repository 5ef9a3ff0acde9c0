import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { JwtKeys, AccessClaims } from "../lib/crypto/jwt.ts";
import type { PasswordHasher } from "../lib/crypto/password.ts";
import type { Clock } from "../lib/clock.ts";
import type { Mailer } from "../mail/types.ts";

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  passwords: PasswordHasher;
  jwt: JwtKeys;
  mailer: Mailer;
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
    defer: (task: () => Promise<void>) => void;
    client: RequestInfo;
  };
};
