import { beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { emailTokens } from "../../../src/db/schema.ts";
import { MAX_CODE_ATTEMPTS } from "../../../src/auth/email-tokens.ts";
import { CODE_FAILURES_PER_DAY } from "../../../src/limits/code-guard.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { codeFrom, mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { comparableBody, createConfirmedUser, errorCode, login, PASSWORD } from "../../support/flows.ts";

// Every confirmation and reset mail carries a 6-digit code beside its link, for a person who opens
// the page on another device or whose link a mail client broke. Link and code are one credential.

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

async function registered(label: string) {
  const email = uniqueEmail(label);
  expect((await t.post("/v1/register", { email, password: PASSWORD })).status).toBe(202);
  await t.settle();
  const mail = (await mailsTo(email)).at(-1);
  return { email, token: tokenFrom(mail), code: codeFrom(mail) };
}

async function resetMail(email: string) {
  clock.advance(MAIL_MIN_INTERVAL_MS);
  expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
  await t.settle();
  const mail = (await mailsTo(email)).at(-1);
  return { token: tokenFrom(mail), code: codeFrom(mail) };
}

/** A code that is not the right one. */
const wrong = (code: string, i = 0) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");

describe("codes beside links", () => {
  it("confirms an address with its code and the registration's password", async () => {
    const { email, code } = await registered("confirm-code");
    const res = await t.post("/v1/confirm", { email, code, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { email: string } }).user.email).toBe(email);
    await login(t, email);
  });

  it("confirms with the code and the PKCE verifier, too", async () => {
    const email = uniqueEmail("pkce-code");
    const verifier = "v".repeat(43);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const challenge = btoa(String.fromCharCode(...digest)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    await t.post("/v1/register", { email, password: PASSWORD, code_challenge: challenge });
    await t.settle();
    const code = codeFrom((await mailsTo(email)).at(-1));
    expect((await t.post("/v1/confirm", { email, code, code_verifier: verifier })).status).toBe(200);
  });

  it("still asks for the proof: a code alone confirms nothing", async () => {
    const { email, code } = await registered("code-alone");
    const res = await t.post("/v1/confirm", { email, code });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("proof_required");
    expect((await t.post("/v1/confirm", { email, code, password: PASSWORD })).status).toBe(200);
  });

  it("resets a password with the address, the code and the new password", async () => {
    const { email } = await createConfirmedUser(t, "reset-code");
    const { code } = await resetMail(email);
    expect((await t.post("/v1/password/reset", { email, code, password: "a new long passphrase" })).status).toBe(200);
    await login(t, email, "a new long passphrase");
  });

  it("refuses a body with both a token and a code, or a code without its address", async () => {
    const { email, token, code } = await registered("both");
    for (const body of [{ token, email, code, password: PASSWORD }, { code, password: PASSWORD }]) {
      const res = await t.post("/v1/confirm", body);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("validation_failed");
    }
  });
});

describe("a link and its code are one credential", () => {
  it("using the code spends the link", async () => {
    const { email } = await createConfirmedUser(t, "code-then-link");
    const { token, code } = await resetMail(email);
    expect((await t.post("/v1/password/reset", { email, code, password: "first new password" })).status).toBe(200);
    const link = await t.post("/v1/password/reset", { token, password: "second new password" });
    expect(link.status).toBe(400);
    expect(await errorCode(link)).toBe("invalid_token");
    await login(t, email, "first new password");
  });

  it("using the link spends the code", async () => {
    const { email, token, code } = await registered("link-then-code");
    expect((await t.post("/v1/confirm", { token, password: PASSWORD })).status).toBe(200);
    const again = await t.post("/v1/confirm", { email, code, password: PASSWORD });
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe("invalid_code");
  });

  it("lets exactly one of 10 parallel uses, link and code mixed, succeed", async () => {
    const { email } = await createConfirmedUser(t, "mixed-race");
    const { token, code } = await resetMail(email);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.post("/v1/password/reset", i % 2 ? { token, password: `parallel password ${i}` } : { email, code, password: `parallel password ${i}` }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  });

  it("a newer reset mail voids the older mail's code too", async () => {
    const { email } = await createConfirmedUser(t, "newer-code");
    const older = await resetMail(email);
    const newer = await resetMail(email);
    expect((await t.post("/v1/password/reset", { email, code: older.code, password: "from the old code" })).status).toBe(400);
    expect((await t.post("/v1/password/reset", { email, code: newer.code, password: "from the new code" })).status).toBe(200);
  });

  it("a code expires with its link", async () => {
    const { email } = await createConfirmedUser(t, "late-code");
    const { code } = await resetMail(email);
    clock.advance(t.deps.config.resetTokenTtl * 1000 + 1);
    const res = await t.post("/v1/password/reset", { email, code, password: "too late password" });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_code");
  });

  it("a code is worth nothing for another address or another purpose", async () => {
    const a = await registered("other-a");
    const b = await registered("other-b");
    expect((await t.post("/v1/confirm", { email: b.email, code: a.code, password: PASSWORD })).status).toBe(a.code === b.code ? 200 : 400);
    // A confirmation code is not a reset code for the same address.
    const res = await t.post("/v1/password/reset", { email: a.email, code: a.code, password: "hijacked password" });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_code");
  });
});

describe("wrong codes", () => {
  it(`voids a code after ${MAX_CODE_ATTEMPTS} wrong tries; its link still works`, async () => {
    const { email } = await createConfirmedUser(t, "five");
    const { token, code } = await resetMail(email);
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) {
      const res = await t.post("/v1/password/reset", { email, code: wrong(code, i), password: "guessing password" });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_code");
    }
    const right = await t.post("/v1/password/reset", { email, code, password: "the right code now" });
    expect(right.status).toBe(400);
    expect(await errorCode(right)).toBe("invalid_code");
    // Someone who only knows the address can kill the code, not the link.
    expect((await t.post("/v1/password/reset", { token, password: "from the link" })).status).toBe(200);
  });

  it("answers a wrong code the same for a known and an unknown address, at the same cost", async () => {
    const known = await registered("known");
    const unknown = uniqueEmail("unknown");
    const s = await createTestService({ background: "manual" });
    const answers = [];
    for (const body of [
      { email: known.email, code: wrong(known.code), password: PASSWORD },
      { email: unknown, code: "123456", password: PASSWORD },
    ]) {
      const res = await t.post("/v1/confirm", body);
      answers.push([res.status, await comparableBody(res)]);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![0]).toBe(400);
    // Round trips and writes of a wrong code, for an address with a live code and one without.
    const { email: owner } = await createConfirmedUser(s, "owner");
    await s.post("/v1/password/forgot", { email: owner });
    await s.runDeferred();
    const costs = [];
    for (const email of [owner, uniqueEmail("nobody")]) {
      const writes = await s.dbWrites();
      const trips = await s.measureTrips(() => s.post("/v1/password/reset", { email, code: "000000", password: "whatever new pass" }));
      costs.push({ ...trips, writes: (await s.dbWrites()) - writes });
    }
    expect(costs[0]).toEqual(costs[1]);
    expect(costs[0]!.used).toBe(2);
  });

  it(`stops taking codes for an address after ${CODE_FAILURES_PER_DAY} wrong ones in a day (links still work)`, async () => {
    const { email } = await createConfirmedUser(t, "daily");
    let mail = await resetMail(email);
    for (let i = 0; i < CODE_FAILURES_PER_DAY; i++) {
      if (i % MAX_CODE_ATTEMPTS === 0) mail = await resetMail(email);
      expect((await t.post("/v1/password/reset", { email, code: wrong(mail.code, i), password: "guessing password" })).status).toBe(400);
    }
    const fresh = await resetMail(email);
    const refused = await t.post("/v1/password/reset", { email, code: fresh.code, password: "the right code now" });
    expect(refused.status).toBe(400);
    expect(await errorCode(refused)).toBe("invalid_code");
    // The code itself was not worn out: a day later it would work, had it not expired. Its link works now.
    expect((await t.post("/v1/password/reset", { token: fresh.token, password: "from the link" })).status).toBe(200);
    clock.advance(24 * 3600_000);
    const next = await resetMail(email);
    expect((await t.post("/v1/password/reset", { email, code: next.code, password: "a day later" })).status).toBe(200);
  });

  it("stores only HMACs of codes, never the digits", async () => {
    const { email, code } = await registered("stored");
    const [row] = await t.deps.db.select().from(emailTokens).where(and(eq(emailTokens.email, email), eq(emailTokens.purpose, "confirm_email")));
    expect(row!.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(code);
  });

  it("keeps code confirmation and code reset to two round trips", async () => {
    const s = await createTestService({ background: "manual" });
    const email = uniqueEmail("trips");
    await s.post("/v1/register", { email, password: PASSWORD });
    await s.runDeferred();
    const confirmCode = codeFrom((await mailsTo(email)).at(-1));
    expect(await s.measureTrips(() => s.post("/v1/confirm", { email, code: confirmCode, password: PASSWORD }))).toEqual({ status: 200, used: 2 });
    await s.post("/v1/password/forgot", { email });
    await s.runDeferred();
    const resetCode = codeFrom((await mailsTo(email)).at(-1));
    expect(await s.measureTrips(() => s.post("/v1/password/reset", { email, code: resetCode, password: "budget new password" }))).toEqual({ status: 200, used: 2 });
  });
});
