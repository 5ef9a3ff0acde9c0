import { describe, expect, it } from "vitest";
import { createConfirmedUser, PASSWORD } from "../../support/flows.ts";
import { mailsTo } from "../../support/mail.ts";
import { createTestService } from "../../support/service.ts";

// The words of the mails as they are sent, for settings the template tests do not start from.

describe("a lifetime under a minute", () => {
  it("is written in seconds in the confirmation and the reset mail", async () => {
    const t = await createTestService({ settings: { CONFIRM_TOKEN_TTL: "45", RESET_TOKEN_TTL: "30" } });
    const { email } = await createConfirmedUser(t, "short-lived");
    expect((await mailsTo(email))[0]!.body.text).toContain("The link and the code expire in 45 seconds.");

    expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
    await t.settle();
    const reset = (await mailsTo(email)).at(-1)!;
    expect(reset.body.text).toContain("The link and the code expire in 30 seconds; once one of them is used, neither works again.");
    expect(reset.body.html).toContain("The link and the code expire in 30 seconds; once one of them is used, neither works again.");
  });
});

describe("the app's name", () => {
  it.each(["edge-auth", "Acme"])("reads right in the 'already registered' mail when it is %s", async (appName) => {
    const t = await createTestService({ settings: { APP_NAME: appName } });
    const { email } = await createConfirmedUser(t, "taken");
    expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
    await t.settle();
    const text = (await mailsTo(email)).at(-1)!.body.text!;
    expect(text).toContain(`Someone tried to sign up for ${appName} with this email address, but it already has an account.`);
    expect(text).not.toMatch(new RegExp(`\\ban? ${appName}`));
  });
});
