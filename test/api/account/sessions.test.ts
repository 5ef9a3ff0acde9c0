import { beforeAll, describe, expect, it } from "vitest";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { createConfirmedUser, errorCode, PASSWORD, type SessionBody } from "../../support/flows.ts";

interface SessionJson {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string;
  ip: string | null;
  current: boolean;
}

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

const FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async function loginFrom(email: string, ip: string, userAgent: string): Promise<SessionBody> {
  const res = await t.request("/v1/login", { method: "POST", json: { email, password: PASSWORD }, headers: { "cf-connecting-ip": ip, "user-agent": userAgent } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { session: SessionBody }).session;
}

async function list(token: string): Promise<SessionJson[]> {
  const res = await t.request("/v1/sessions", { token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sessions: SessionJson[] }).sessions;
}

const sidOf = (session: SessionBody) => (JSON.parse(atob(session.access_token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as { sid: string }).sid;
const end = (id: string, token: string) => t.request(`/v1/sessions/${id}`, { method: "DELETE", token });

describe("GET /v1/sessions", () => {
  it("lists the caller's live sessions with a device summary, a truncated IP and which one is the caller's", async () => {
    const { email, session: first } = await createConfirmedUser(t, "list");
    const mac = await loginFrom(email, "198.51.100.23", FIREFOX_MAC);
    const phone = await loginFrom(email, "2001:db8:abcd:12:1:2:3:4", SAFARI_IPHONE);
    await t.post("/v1/logout", {}, first.access_token);

    const sessions = await list(mac.access_token);
    expect(sessions).toHaveLength(2);
    const byId = new Map(sessions.map((s) => [s.id, s]));
    expect(byId.get(sidOf(mac))).toMatchObject({ user_agent: "Firefox on macOS", ip: "198.51.100.0/24", current: true });
    expect(byId.get(sidOf(phone))).toMatchObject({ user_agent: "Safari on iOS", ip: "2001:db8:abcd::/48", current: false });
    expect(byId.has(sidOf(first))).toBe(false);
    for (const s of sessions) expect(Object.keys(s).sort()).toEqual(["created_at", "current", "id", "ip", "last_used_at", "user_agent"]);
  });

  it("moves last used at refresh, never at GET /v1/me", async () => {
    const { session } = await createConfirmedUser(t, "last-used");
    const [before] = await list(session.access_token);
    expect(before!.last_used_at).toBe(before!.created_at);
    clock.advance(60_000);
    expect((await t.request("/v1/me", { token: session.access_token })).status).toBe(200);
    expect((await list(session.access_token))[0]!.last_used_at).toBe(before!.last_used_at);
    clock.advance(60_000);
    const refreshed = await t.post("/v1/token/refresh", { refresh_token: session.refresh_token });
    const { session: next } = (await refreshed.json()) as { session: SessionBody };
    expect((await list(next.access_token))[0]!.last_used_at).toBe(new Date(clock.now()).toISOString());
  });

  it("answers 401 to the access token of an ended session", async () => {
    const { session } = await createConfirmedUser(t, "ended");
    await t.post("/v1/logout", {}, session.access_token);
    expect((await t.request("/v1/sessions", { token: session.access_token })).status).toBe(401);
  });
});

describe("DELETE /v1/sessions/:id", () => {
  it("ends one of the caller's sessions: its refresh token stops working, the others keep going", async () => {
    const { email, session } = await createConfirmedUser(t, "end-one");
    const other = await loginFrom(email, "203.0.113.9", SAFARI_IPHONE);
    const res = await end(sidOf(other), session.access_token);
    expect(res.status).toBe(204);
    expect((await t.post("/v1/token/refresh", { refresh_token: other.refresh_token })).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(200);
    const events = ((await (await t.request("/v1/me/events", { token: session.access_token })).json()) as { events: Array<{ type: string }> }).events;
    expect(events[0]!.type).toBe("session_ended");
  });

  it("a session of user A can be neither listed nor ended by user B (404, as for an id that does not exist)", async () => {
    const a = await createConfirmedUser(t, "owner-a");
    const b = await createConfirmedUser(t, "other-b");
    expect((await list(b.session.access_token)).map((s) => s.id)).not.toContain(sidOf(a.session));
    const res = await end(sidOf(a.session), b.session.access_token);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("not_found");
    const missing = await end(crypto.randomUUID(), b.session.access_token);
    expect([missing.status, await errorCode(missing)]).toEqual([404, "not_found"]);
    expect((await t.post("/v1/token/refresh", { refresh_token: a.session.refresh_token })).status).toBe(200);
  });

  it("answers 404 for a session already ended", async () => {
    const { email, session } = await createConfirmedUser(t, "twice");
    const other = await loginFrom(email, "203.0.113.10", FIREFOX_MAC);
    expect((await end(sidOf(other), session.access_token)).status).toBe(204);
    expect((await end(sidOf(other), session.access_token)).status).toBe(404);
  });

  it("needs the caller's session to be live: an ended session's access token cannot end others", async () => {
    const { email, session } = await createConfirmedUser(t, "zombie");
    const other = await loginFrom(email, "203.0.113.11", FIREFOX_MAC);
    await t.post("/v1/logout", {}, session.access_token);
    expect((await end(sidOf(other), session.access_token)).status).toBe(401);
    expect((await t.post("/v1/token/refresh", { refresh_token: other.refresh_token })).status).toBe(200);
  });

  it("is allowed by CORS for the app's origin", async () => {
    const res = await t.request("/v1/sessions/x", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.test", "access-control-request-method": "DELETE" },
    });
    expect(res.headers.get("access-control-allow-methods")).toContain("DELETE");
  });

  it("answers from one round trip, listing and ending", async () => {
    const s = await createTestService({ background: "manual" });
    const { email, session } = await createConfirmedUser(s, "trips");
    const other = ((await (await s.post("/v1/login", { email, password: PASSWORD })).json()) as { session: SessionBody }).session;
    expect(await s.measureTrips(() => s.request("/v1/sessions", { token: session.access_token }))).toEqual({ status: 200, used: 1 });
    expect(await s.measureTrips(() => s.request(`/v1/sessions/${sidOf(other)}`, { method: "DELETE", token: session.access_token }))).toEqual({ status: 204, used: 1 });
  });
});
