export type Locale = "en" | "es" | "pt-BR";

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

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
