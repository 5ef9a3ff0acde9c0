import type { Mailer } from "./types.ts";

// Development without a Resend key: the outbox row itself is the mailbox (GET /dev/mailbox), so
// "sending" only marks it delivered.
export function createDevMailer(): Mailer {
  return {
    kind: "dev",
    send: async () => ({ ok: true, providerId: null }),
    sendBatch: async (mails) => mails.map(() => ({ ok: true, providerId: null })),
  };
}
