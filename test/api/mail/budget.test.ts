import { beforeAll, describe, expect, it } from "vitest";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, uniqueEmail, type ReceivedMail } from "../../support/mail.ts";
import { comparableBody, createConfirmedUser, PASSWORD } from "../../support/flows.ts";

const HOUR = 3600_000;
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  // MAIL_PER_ADDRESS_PER_HOUR defaults to 5.
  t = await createTestService({ clock });
});

const isReset = (m: ReceivedMail) => m.body.text?.includes("/reset#token=") === true;
const isConfirm = (m: ReceivedMail) => m.body.text?.includes("/confirm#token=") === true;

// Spaced past the minimum interval, so only the hourly budget is at work.
async function repeat(times: number, run: () => Promise<Response>, spacingMs = MAIL_MIN_INTERVAL_MS) {
  const answers: unknown[] = [];
  for (let i = 0; i < times; i++) {
    const res = await run();
    answers.push([res.status, await comparableBody(res)]);
    clock.advance(spacingMs);
  }
  await t.settle();
  return answers;
}

describe("mail budget per address (no mail bombing), answered silently", () => {
  it("forgot 20 times for one address: 202 every time, 5 reset mails, then one more an hour later", async () => {
    const { email } = await createConfirmedUser(t, "bombed");
    const answers = await repeat(20, () => t.post("/v1/password/forgot", { email }));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect((answers[0] as unknown[])[0]).toBe(202);
    expect((await mailsTo(email)).filter(isReset)).toHaveLength(5);

    // Over budget the answer is the same as for an address that gets mail, or has no account.
    const unknown = await repeat(1, () => t.post("/v1/password/forgot", { email: uniqueEmail("nobody") }));
    expect(unknown[0]).toEqual(answers[0]);

    clock.advance(HOUR);
    await repeat(1, () => t.post("/v1/password/forgot", { email }));
    expect((await mailsTo(email)).filter(isReset)).toHaveLength(6);
  });

  it("counts each address on its own", async () => {
    const first = await createConfirmedUser(t, "first");
    const second = await createConfirmedUser(t, "second");
    await repeat(8, () => t.post("/v1/password/forgot", { email: first.email }));
    await repeat(1, () => t.post("/v1/password/forgot", { email: second.email }));
    expect((await mailsTo(first.email)).filter(isReset)).toHaveLength(5);
    expect((await mailsTo(second.email)).filter(isReset)).toHaveLength(1);
  });

  it("sends at most one mail of a kind per mailbox a minute, however fast it is asked", async () => {
    const { email } = await createConfirmedUser(t, "burst");
    const answers = await repeat(3, () => t.post("/v1/password/forgot", { email }), 1000);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect((await mailsTo(email)).filter(isReset)).toHaveLength(1);
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await repeat(1, () => t.post("/v1/password/forgot", { email }));
    expect((await mailsTo(email)).filter(isReset)).toHaveLength(2);
  });

  it("counts +tags and Gmail's dots as the one mailbox they deliver to", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const spellings = [`v${tag}+1@example.test`, `v${tag}+2@example.test`, `V${tag}+x@Example.test`];
    // Each spelling is its own address (and could be its own account); the mailbox is one.
    let n = 0;
    await repeat(9, () => t.post("/v1/register", { email: spellings[n++ % 3]!, password: PASSWORD }));
    const delivered = (await Promise.all(spellings.map((e) => mailsTo(e.toLowerCase())))).flat().filter(isConfirm);
    expect(delivered).toHaveLength(5);

    const gmail = [`a.b.${tag}@gmail.com`, `ab${tag}@googlemail.com`, `a.b${tag}+news@gmail.com`];
    await repeat(9, () => t.post("/v1/register", { email: gmail[n++ % 3]!, password: PASSWORD }));
    const gmailDelivered = (await Promise.all(gmail.map((e) => mailsTo(e)))).flat().filter(isConfirm);
    expect(gmailDelivered).toHaveLength(5);
  });

  it("resend 20 times for an unconfirmed address: 202 every time, at most 5 confirmation mails in the hour", async () => {
    const email = uniqueEmail("resend");
    await t.post("/v1/register", { email, password: PASSWORD });
    clock.advance(MAIL_MIN_INTERVAL_MS);
    const answers = await repeat(20, () => t.post("/v1/confirm/resend", { email }));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect((answers[0] as unknown[])[0]).toBe(202);
    // The registration's own mail counts against the same budget.
    expect((await mailsTo(email)).filter(isConfirm)).toHaveLength(5);
  });

  it("register 20 times with a taken address: the new-address answer every time, at most 5 mails to the owner", async () => {
    const { email } = await createConfirmedUser(t, "taken");
    const before = (await mailsTo(email)).length;
    const answers = await repeat(20, () => t.post("/v1/register", { email, password: "another long password" }));
    const fresh = await repeat(1, () => t.post("/v1/register", { email: uniqueEmail("fresh"), password: PASSWORD }));
    for (const answer of answers) expect(answer).toEqual(fresh[0]);
    expect((await mailsTo(email)).length - before).toBe(5);
  });
});
