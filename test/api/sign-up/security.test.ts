import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { SignJWT, generateKeyPair } from "jose";
import { emailTokens, outbox, refreshTokens, registrations, users } from "../../../src/db/schema.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, PUBLIC_URL, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, login, PASSWORD } from "../../support/flows.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

describe("no account enumeration", () => {
  it("answers register for a taken and a new address with the same status and body", async () => {
    const { email } = await createConfirmedUser(t, "taken");
    const taken = await t.post("/v1/register", { email, password: "another long password" });
    const fresh = await t.post("/v1/register", { email: uniqueEmail("fresh"), password: "another long password" });
    expect(taken.status).toBe(202);
    expect(fresh.status).toBe(fresh.status);
    expect(await taken.text()).toBe(await fresh.text());
  });

  it("answers resend for unknown, unconfirmed and confirmed addresses alike", async () => {
    const { email: confirmed } = await createConfirmedUser(t, "resend-c");
    const unconfirmed = uniqueEmail("resend-u");
    await t.post("/v1/register", { email: unconfirmed, password: PASSWORD });
    const answers = await Promise.all(
      [confirmed, unconfirmed, uniqueEmail("resend-x")].map(async (email) => {
        const res = await t.post("/v1/confirm/resend", { email });
        return [res.status, await res.text()];
      }),
    );
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[1]).toEqual(answers[2]);
    expect(answers[0]![0]).toBe(202);
  });

  it("does the same work for known and unknown addresses: one derivation and one write", async () => {
    const derivations: string[] = [];
    const real = t.deps.passwords;
    const counted = await createTestService({
      deps: {
        passwords: {
          hash: (p, o) => (derivations.push("hash"), real.hash(p, o)),
          matchAny: (p, s) => (derivations.push("matchAny"), real.matchAny(p, s)),
          verify: (p, s) => (derivations.push("verify"), real.verify(p, s)),
          burn: (p) => (derivations.push("burn"), real.burn(p)),
        },
      },
      background: "manual",
    });
    const { email } = await createConfirmedUser(counted, "work");
    const measure = async (path: string, body: unknown) => {
      derivations.length = 0;
      const before = await counted.dbRoundTrips();
      const res = await counted.post(path, body);
      return { status: res.status, derivations: derivations.length, trips: (await counted.dbRoundTrips()) - before };
    };
    const knownRegister = await measure("/v1/register", { email, password: "some other password" });
    const newRegister = await measure("/v1/register", { email: uniqueEmail("new"), password: "some other password" });
    expect(knownRegister).toEqual(newRegister);
    expect(knownRegister).toEqual({ status: 202, derivations: 1, trips: 2 });

    const wrongPassword = await measure("/v1/login", { email, password: "wrong password!" });
    const unknownAccount = await measure("/v1/login", { email: uniqueEmail("ghost"), password: "wrong password!" });
    expect(wrongPassword).toEqual(unknownAccount);
    expect(wrongPassword).toEqual({ status: 401, derivations: 1, trips: 2 });
  });

  it("mails the owner of a taken address instead of creating a second account", async () => {
    const { email } = await createConfirmedUser(t, "owner");
    await t.post("/v1/register", { email: email.toUpperCase(), password: "attacker password" });
    await t.settle();
    const mails = await mailsTo(email);
    expect(mails.at(-1)!.body.subject).toMatch(/tried to sign up/i);
    const rows = await t.deps.db.select().from(users).where(eq(users.email, email));
    expect(rows).toHaveLength(1);
    // The original password still works; the attacker's does not.
    await login(t, email);
    expect((await t.post("/v1/login", { email, password: "attacker password" })).status).toBe(401);
  });

  it("mails a second link when an unconfirmed address registers again; either link confirms, once", async () => {
    const clock = new TestClock();
    const s = await createTestService({ clock });
    const email = uniqueEmail("again");
    await s.post("/v1/register", { email, password: PASSWORD });
    await s.settle();
    const first = tokenFrom((await mailsTo(email))[0]);
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await s.post("/v1/register", { email, password: PASSWORD });
    await s.settle();
    const mails = await mailsTo(email);
    expect(mails).toHaveLength(2);
    const second = tokenFrom(mails[1]);
    expect(second).not.toBe(first);
    expect((await s.post("/v1/confirm", { token: first, password: PASSWORD })).status).toBe(200);
    expect(await errorCode(await s.post("/v1/confirm", { token: second, password: PASSWORD }))).toBe("invalid_token");
  });
});

describe("tokens", () => {
  it("stores email and refresh tokens only as hashes, and outbox payloads only encrypted", async () => {
    const email = uniqueEmail("hashes");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(email))[0]);
    const confirmed = (await (await t.post("/v1/confirm", { token, password: PASSWORD })).json()) as {
      user: { id: string };
      session: { refresh_token: string };
    };
    const stored = await t.deps.db.select().from(emailTokens).where(eq(emailTokens.email, email));
    const refresh = await t.deps.db.select().from(refreshTokens).where(eq(refreshTokens.userId, confirmed.user.id));
    const mail = await t.deps.db.select().from(outbox).where(eq(outbox.userId, confirmed.user.id));
    const everything = JSON.stringify([stored, refresh, mail]);
    expect(stored.length).toBeGreaterThan(0);
    expect(refresh.length).toBeGreaterThan(0);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(confirmed.session.refresh_token);
  });

  it("refuses a refresh token used as an email token and an email token used as a refresh token", async () => {
    const { session } = await createConfirmedUser(t, "purpose");
    expect((await t.post("/v1/confirm", { token: session.refresh_token, password: PASSWORD })).status).toBe(400);
    const email = uniqueEmail("purpose2");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const confirmToken = tokenFrom((await mailsTo(email))[0]);
    expect((await t.post("/v1/token/refresh", { refresh_token: confirmToken })).status).toBe(401);
  });

  it("kills the whole session when a rotated refresh token is presented again", async () => {
    const { session } = await createConfirmedUser(t, "reuse");
    const rotated = (await (await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).json()) as {
      session: { refresh_token: string };
    };
    const newer = (await (await t.post("/v1/token/refresh", { refresh_token: rotated.session.refresh_token })).json()) as {
      session: { refresh_token: string };
    };
    // The successor has been used, so the first token coming back is a copy, not a retry.
    const replay = await t.post("/v1/token/refresh", { refresh_token: session.refresh_token });
    expect(replay.status).toBe(401);
    expect(await errorCode(replay)).toBe("invalid_token");
    // The legitimate holder's newest token dies with the session.
    expect((await t.post("/v1/token/refresh", { refresh_token: newer.session.refresh_token })).status).toBe(401);
  });

  describe("access tokens the API must refuse", () => {
    async function claimsFor() {
      const { userId, email, session } = await createConfirmedUser(t, "jwt");
      return { userId, email, sid: "s", valid: session.access_token };
    }

    it("refuses a token signed by another key, even with a known kid", async () => {
      const { userId, email } = await claimsFor();
      const { privateKey } = await generateKeyPair("Ed25519");
      const forged = await new SignJWT({ sid: "x", email, roles: ["admin"] })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: "test-1" })
        .setIssuer(PUBLIC_URL)
        .setAudience(PUBLIC_URL)
        .setSubject(userId)
        .setJti("j")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
      expect((await t.request("/v1/me", { token: forged })).status).toBe(401);
    });

    it("refuses alg none", async () => {
      const { valid } = await claimsFor();
      const [, payload] = valid.split(".");
      const header = btoa(JSON.stringify({ alg: "none", typ: "at+jwt", kid: "test-1" })).replace(/=+$/, "");
      expect((await t.request("/v1/me", { token: `${header}.${payload}.` })).status).toBe(401);
    });

    it("refuses a token for another audience, signed with our own key", async () => {
      const other = await createTestService({ settings: { JWT_AUDIENCE: "https://other.example.test" } });
      const { session } = await createConfirmedUser(other, "aud");
      expect((await other.request("/v1/me", { token: session.access_token })).status).toBe(200);
      expect((await t.request("/v1/me", { token: session.access_token })).status).toBe(401);
    });

    it("refuses a token whose payload was altered", async () => {
      const { valid } = await claimsFor();
      const [header, payload, signature] = valid.split(".");
      const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
      claims.roles = ["admin"];
      const altered = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      expect((await t.request("/v1/me", { token: `${header}.${altered}.${signature}` })).status).toBe(401);
    });
  });
});

describe("concurrency", () => {
  it("rotates a refresh token once when it is presented 5 times at once: every answer carries the one successor", async () => {
    const { session, userId } = await createConfirmedUser(t, "refresh-race");
    const answers = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await t.post("/v1/token/refresh", { refresh_token: session.refresh_token });
        return { status: res.status, token: ((await res.json()) as { session?: { refresh_token: string } }).session?.refresh_token };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.token)).size).toBe(1);
    expect(await t.deps.db.select().from(refreshTokens).where(eq(refreshTokens.userId, userId))).toHaveLength(2);
  });

  it("keeps at most 3 pending registrations from 20 parallel registrations of one address, answering 202 to all", async () => {
    const email = uniqueEmail("race");
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.post("/v1/register", { email, password: PASSWORD }).then((r) => r.status)),
    );
    expect(answers.every((status) => status === 202)).toBe(true);
    expect(await t.deps.db.select().from(users).where(eq(users.email, email))).toHaveLength(0);
    expect((await t.deps.db.select().from(registrations).where(eq(registrations.email, email))).length).toBeLessThanOrEqual(3);
  });

  it("confirms once when one token is presented 10 times at once", async () => {
    const email = uniqueEmail("confirm-race");
    await t.post("/v1/register", { email, password: PASSWORD });
    await t.settle();
    const token = tokenFrom((await mailsTo(email))[0]);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => t.post("/v1/confirm", { token, password: PASSWORD }).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(1);
    expect(answers.filter((s) => s === 400)).toHaveLength(9);
  });
});

describe("edge budget: libSQL round trips per request", () => {
  it("keeps every endpoint at two round trips or fewer, and /v1/me at none", async () => {
    const s = await createTestService({ background: "manual" });
    const trips = s.measureTrips;
    const email = uniqueEmail("budget");
    expect(await trips(() => s.post("/v1/register", { email, password: PASSWORD }))).toEqual({ status: 202, used: 2 });
    expect(await trips(() => s.post("/v1/confirm/resend", { email }))).toEqual({ status: 202, used: 2 });
    const token = tokenFrom((await mailsTo(email)).at(-1));
    const confirm = await trips(() => s.post("/v1/confirm", { token, password: PASSWORD }));
    expect(confirm).toEqual({ status: 200, used: 2 });
    let session!: { access_token: string; refresh_token: string };
    expect(
      await trips(async () => {
        const res = await s.post("/v1/login", { email, password: PASSWORD });
        session = ((await res.clone().json()) as { session: typeof session }).session;
        return res;
      }),
    ).toEqual({ status: 200, used: 2 });
    expect(await trips(() => s.request("/v1/me", { token: session.access_token }))).toEqual({ status: 200, used: 0 });
    expect(await trips(() => s.request("/.well-known/jwks.json"))).toEqual({ status: 200, used: 0 });
    expect(await trips(() => s.post("/v1/token/refresh", { refresh_token: session.refresh_token }))).toEqual({ status: 200, used: 1 });
    expect(await trips(() => s.post("/v1/logout", {}, session.access_token))).toEqual({ status: 204, used: 1 });
  });
});

describe("CORS for SPAs", () => {
  it("allows the configured origin without credentials and ignores others", async () => {
    const allowed = await t.request("/v1/login", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "POST" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
    const other = await t.request("/v1/login", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.test", "access-control-request-method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
