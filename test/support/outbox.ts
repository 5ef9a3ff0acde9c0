import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { outbox, suppressions, webhookEvents } from "../../src/db/schema.ts";
import { createResendMailer } from "../../src/mail/resend-mailer.ts";
import type { Mailer } from "../../src/mail/types.ts";
import { RESEND_KEY, type TestService } from "./service.ts";

/** The outbox rows addressed to `email`, oldest first. */
export function outboxTo(t: TestService, email: string) {
  return t.deps.db.select().from(outbox).where(eq(outbox.toEmail, email)).orderBy(asc(outbox.createdAt), asc(outbox.attempts));
}

export async function onlyOutboxRow(t: TestService, email: string) {
  const rows = await outboxTo(t, email);
  if (rows.length !== 1) throw new Error(`expected one outbox row, found ${rows.length}`);
  return rows[0]!;
}

export function suppressionOf(t: TestService, email: string) {
  return t.deps.db.select().from(suppressions).where(eq(suppressions.email, email));
}

export function webhookEventRows(t: TestService) {
  return t.deps.db.select().from(webhookEvents);
}

export function standInMailer(): Mailer {
  return createResendMailer({ apiKey: RESEND_KEY, baseUrl: env.RESEND_STAND_IN_URL });
}

/**
 * A provider that is down: the mailer points at a port nothing listens on (connection refused)
 * until recover() points it at the stand-in.
 */
export function providerDown() {
  const down = createResendMailer({ apiKey: RESEND_KEY, baseUrl: "http://127.0.0.1:9" });
  const up = standInMailer();
  let current = down;
  const mailer: Mailer = { kind: "resend", send: (mail) => current.send(mail), sendBatch: (mails, key) => current.sendBatch(mails, key) };
  return {
    mailer,
    recover() {
      current = up;
    },
  };
}
