import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { users } from "../../../src/db/schema.ts";
import { createTestService, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, login, PASSWORD } from "../../support/flows.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

async function refusedAsWeak(res: Response) {
  expect(res.status).toBe(400);
  expect(await errorCode(res)).toBe("weak_password");
}

async function resetToken(email: string) {
  expect((await t.post("/v1/password/forgot", { email })).status).toBe(202);
  await t.settle();
  return tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
}

describe("weak passwords are refused with 400 weak_password", () => {
  it.each([
    ["a common password", () => "password123"],
    ["a common password in other case", () => "PassWord123"],
    ["one containing the address's local part", (local: string) => `my ${local.toUpperCase()} pass`],
    ["one containing the app name", () => "my own acme login"],
  ])("register refuses %s and creates no account", async (_label, choose) => {
    const email = uniqueEmail("weak");
    await refusedAsWeak(await t.post("/v1/register", { email, password: choose(email.split("@")[0]!) }));
    expect(await t.deps.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });

  it("change refuses a common new password and keeps the old one", async () => {
    const { email, session } = await createConfirmedUser(t, "change-weak");
    await refusedAsWeak(await t.post("/v1/password/change", { current_password: PASSWORD, new_password: "iloveyou123" }, session.access_token));
    await login(t, email);
  });

  it("reset refuses a common password without using up the link", async () => {
    const { email } = await createConfirmedUser(t, "reset-common");
    const token = await resetToken(email);
    await refusedAsWeak(await t.post("/v1/password/reset", { token, password: "qwerty123" }));
    expect((await t.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
  });

  it("reset refuses a password containing the address without using up the link", async () => {
    const { email } = await createConfirmedUser(t, "reset-local");
    const token = await resetToken(email);
    // Only known once the token names the account: the route consumes it, then gives it back.
    await refusedAsWeak(await t.post("/v1/password/reset", { token, password: `${email.split("@")[0]}!!` }));
    expect((await t.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
    await login(t, email, "a brand new passphrase");
  });
});

describe("PWNED_PASSWORDS_CHECK (k-anonymity range lookup, fails open)", () => {
  const BREACHED = "a passphrase from a breach";

  async function sha1Hex(text: string) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
    return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  }

  // A stand-in for api.pwnedpasswords.com: answers a range with the breached password's suffix
  // among padding rows, and records what it was asked.
  async function pwnedService(mode: "up" | "down" = "up", options: { ipBudget?: "strict" } = {}) {
    const hash = await sha1Hex(BREACHED);
    const requests: Array<{ url: string; padding: string | null }> = [];
    const fetch = async (url: string, init?: RequestInit) => {
      requests.push({ url, padding: new Headers(init?.headers).get("add-padding") });
      if (mode === "down") throw new TypeError("network connection lost");
      const rows = ["0018A45C4D1DEF81644B54AB7F969B88D65:0", "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2"];
      if (url.endsWith(`/range/${hash.slice(0, 5)}`)) rows.push(`${hash.slice(5)}:1234`);
      return new Response(rows.join("\r\n"));
    };
    const service = await createTestService({
      settings: { PWNED_PASSWORDS_CHECK: "true", PWNED_PASSWORDS_URL: "https://pwned.example.test" },
      ...options,
      deps: { fetch },
    });
    return { service, requests, hash };
  }

  it("refuses a breached password on register, sending only the hash's first 5 characters", async () => {
    const { service, requests, hash } = await pwnedService();
    const res = await service.post("/v1/register", { email: uniqueEmail("pwned"), password: BREACHED });
    await refusedAsWeak(res);
    expect(requests).toEqual([{ url: `https://pwned.example.test/range/${hash.slice(0, 5)}`, padding: "true" }]);

    expect((await service.post("/v1/register", { email: uniqueEmail("clean"), password: PASSWORD })).status).toBe(202);
    expect(requests).toHaveLength(2);
  });

  it("refuses a breached password on reset without using up the link, and on change", async () => {
    const { service } = await pwnedService();
    const { email, session } = await createConfirmedUser(service, "pwned-reset");
    await refusedAsWeak(await service.post("/v1/password/change", { current_password: PASSWORD, new_password: BREACHED }, session.access_token));

    expect((await service.post("/v1/password/forgot", { email })).status).toBe(202);
    await service.settle();
    const token = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
    await refusedAsWeak(await service.post("/v1/password/reset", { token, password: BREACHED }));
    expect((await service.post("/v1/password/reset", { token, password: "a brand new passphrase" })).status).toBe(200);
  });

  it("asks nothing for a client that is over its per-IP budget: the limits come first", async () => {
    const { service, requests } = await pwnedService("up", { ipBudget: "strict" });
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 30 && statuses.at(-1) !== 429; i++) {
      const res = await service.request("/v1/register", { method: "POST", json: { email: uniqueEmail("budget"), password: PASSWORD }, headers: { "cf-connecting-ip": ip } });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(requests).toHaveLength(statuses.length - 1);
  });

  it("does not ask about the password at login", async () => {
    const { service, requests } = await pwnedService();
    await service.post("/v1/login", { email: uniqueEmail(), password: BREACHED });
    expect(requests).toHaveLength(0);
  });

  it("lets registration through when the service cannot be reached", async () => {
    const { service, requests } = await pwnedService("down");
    expect((await service.post("/v1/register", { email: uniqueEmail("open"), password: BREACHED })).status).toBe(202);
    expect(requests).toHaveLength(1);
  });

  it("is off by default: nothing is asked", async () => {
    let asked = 0;
    const service = await createTestService({
      deps: {
        fetch: async () => {
          asked += 1;
          return new Response("");
        },
      },
    });
    expect((await service.post("/v1/register", { email: uniqueEmail("off"), password: BREACHED })).status).toBe(202);
    expect(asked).toBe(0);
  });
});
