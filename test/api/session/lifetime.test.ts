import { beforeAll, describe, expect, it } from "vitest";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom } from "../../support/mail.ts";
import { createConfirmedUser, errorCode, login, type SessionBody } from "../../support/flows.ts";

const DAY = 24 * 3600_000;
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock, settings: { REFRESH_TOKEN_TTL: String(2 * 24 * 3600), SESSION_MAX_AGE: String(5 * 24 * 3600) } });
});

async function refresh(session: SessionBody) {
  const res = await t.post("/v1/token/refresh", { refresh_token: session.refresh_token });
  return { status: res.status, session: res.status === 200 ? ((await res.json()) as { session: SessionBody }).session : null };
}

describe("an ended session stops wherever the database is read anyway", () => {
  it("after a reset, the old access token gets 401 on /v1/me/events and /v1/logout and cannot end the new session", async () => {
    const { email, session: old } = await createConfirmedUser(t, "reset-ends");
    clock.advance(MAIL_MIN_INTERVAL_MS);
    await t.post("/v1/password/forgot", { email });
    await t.settle();
    const token = tokenFrom((await mailsTo(email)).at(-1));
    expect((await t.post("/v1/password/reset", { token, password: "the owner's new password" })).status).toBe(200);
    const fresh = await login(t, email, "the owner's new password");

    const events = await t.request("/v1/me/events", { token: old.access_token });
    expect(events.status).toBe(401);
    expect(await errorCode(events)).toBe("invalid_token");
    expect((await t.post("/v1/logout", { all: true }, old.access_token)).status).toBe(401);
    expect((await t.post("/v1/logout", {}, old.access_token)).status).toBe(401);

    // The owner's new session is untouched, and its own token still works everywhere.
    expect((await refresh(fresh)).status).toBe(200);
    // /v1/me stays answered from the token alone (no database read), as documented.
    expect((await t.request("/v1/me", { token: old.access_token })).status).toBe(200);
  });

  it("answers 401 on /v1/me/events once the caller has logged out", async () => {
    const { session } = await createConfirmedUser(t, "logged-out");
    expect((await t.request("/v1/me/events", { token: session.access_token })).status).toBe(200);
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(204);
    expect((await t.request("/v1/me/events", { token: session.access_token })).status).toBe(401);
    expect((await t.post("/v1/logout", {}, session.access_token)).status).toBe(401);
  });
});

describe("absolute session lifetime (SESSION_MAX_AGE)", () => {
  it("never extends a session past its creation plus SESSION_MAX_AGE, however often it is refreshed", async () => {
    const maxAgeMs = t.deps.config.sessionMaxAge * 1000;
    const ttlMs = t.deps.config.refreshTokenTtl * 1000;
    let { session } = await createConfirmedUser(t, "max-age");
    const created = clock.now();
    expect(session.refresh_expires_in * 1000).toBe(ttlMs);
    while (clock.now() + DAY < created + maxAgeMs) {
      clock.advance(DAY);
      const next = await refresh(session);
      expect(next.status).toBe(200);
      session = next.session!;
      expect(clock.now() + session.refresh_expires_in * 1000).toBeLessThanOrEqual(created + maxAgeMs);
    }
    clock.advance(created + maxAgeMs - clock.now());
    const past = await refresh(session);
    expect(past.status).toBe(401);
  });
});
