import type { RenderedMail } from "../../emails/index.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Clock } from "../lib/clock.ts";

export type { RenderedMail };

export interface OutgoingMail extends RenderedMail {
  /** Outbox row id; a single send carries it as the provider's Idempotency-Key, so a retry is delivered once. */
  id: string;
  to: string;
  from: string;
}

export type SendResult =
  | { ok: true; providerId: string | null }
  | {
      ok: false;
      retryable: boolean;
      /**
       * The provider may have accepted the mail after all (no answer, a 5xx): a retry must repeat
       * the call under the same Idempotency-Key. False when it refused for certain (429, 4xx).
       */
      maybeDelivered: boolean;
      reason: string;
      retryAfterSeconds?: number;
    };

export interface Mailer {
  readonly kind: "resend" | "dev";
  send(mail: OutgoingMail): Promise<SendResult>;
  /**
   * Up to 100 mails in one provider call (Resend's batch endpoint): one result per mail, in order.
   * The key names the batch: the same batch sent again under it is not delivered again.
   */
  sendBatch(mails: OutgoingMail[], idempotencyKey: string): Promise<SendResult[]>;
}

/** What mail delivery needs of the service's dependencies (the app's Deps has all of it). */
export interface MailDeps {
  db: Db;
  clock: Clock;
  mailer: Mailer;
  /** AES-GCM key for outbox payloads (they can hold token links), derived on first use. */
  outboxKey: () => Promise<CryptoKey>;
  config: Pick<Config, "mailFrom" | "resendRequestsPerSecond">;
}
