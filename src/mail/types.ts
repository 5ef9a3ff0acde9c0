import type { RenderedMail } from "../../emails/index.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Clock } from "../lib/clock.ts";

export type { RenderedMail };

export interface OutgoingMail extends RenderedMail {
  /** Outbox row id; sent as the provider's Idempotency-Key so a retried send is delivered once. */
  id: string;
  to: string;
  from: string;
}

export type SendResult =
  | { ok: true; providerId: string | null }
  | { ok: false; retryable: boolean; reason: string; retryAfterSeconds?: number };

export interface Mailer {
  readonly kind: "resend" | "dev";
  send(mail: OutgoingMail): Promise<SendResult>;
}

/** What mail delivery needs of the service's dependencies (the app's Deps has all of it). */
export interface MailDeps {
  db: Db;
  clock: Clock;
  mailer: Mailer;
  /** AES-GCM key for outbox payloads (they can hold token links). */
  outboxKey: CryptoKey;
  config: Pick<Config, "mailFrom">;
}
