import { env } from "cloudflare:test";
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import { verifyResendWebhook } from "../../../src/mail/resend-webhook.ts";
import { createResendMailer } from "../../../src/mail/resend-mailer.ts";
import { mailsTo, uniqueEmail } from "../../support/mail.ts";
import { newWebhookSecret, signWebhook } from "../../support/webhooks.ts";

// wrangler.toml aliases postal-mime, which the resend SDK imports for emails.receiving.forward
// alone, to a stub that throws. vitest.config.ts applies the same aliases, so every test that mails
// runs the SDK as deployed; these say so outright.
describe("the bundle without postal-mime", () => {
  it("resolves postal-mime to the stub that throws, inside the SDK's imports too", () => {
    expect(() => PostalMime.parse("From: a@example.test\r\n\r\nhi")).toThrow(/not in this Worker's bundle/);
  });

  it("sends a mail and verifies a Resend webhook through the SDK without it", async () => {
    const mailer = createResendMailer({ apiKey: "re_test_stubs", baseUrl: env.RESEND_STAND_IN_URL });
    const to = uniqueEmail("stubs");
    const sent = await mailer.send({ id: crypto.randomUUID(), to, from: "Acme <no-reply@acme.test>", subject: "Hi", html: "<p>Hi</p>", text: "Hi" });
    expect(sent).toMatchObject({ ok: true });
    expect(await mailsTo(to)).toHaveLength(1);

    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: "email.delivered", data: { email_id: "e1" } });
    const now = Date.now();
    const timestamp = String(Math.floor(now / 1000));
    const signature = await signWebhook(secret, "msg_1", Number(timestamp), body);
    expect(verifyResendWebhook(secret, { id: "msg_1", timestamp, signature, body }, now)).toMatchObject({ ok: true });
  });
});
