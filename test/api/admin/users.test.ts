import { beforeAll, describe, expect, it } from "vitest";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, errorCode } from "../../support/flows.ts";
import { mailsTo, tokenFrom } from "../../support/mail.ts";
import { suppressions } from "../../../src/db/schema.ts";

const clock = new TestClock();
let t: TestService;
let admin: Awaited<ReturnType<typeof adminKey>>;
beforeAll(async () => {
  t = await createTestService({ clock });
  admin = await adminKey(t, ["users:read", "users:write", "sessions:write", "audit:read"]);
});

type AdminUser = { id: string; email: string; disabled: boolean; roles: string[]; name: string | null };
const json = async <T>(res: Response) => (await res.json()) as T;

describe("admin API: users", () => {
  it("lists every user exactly once across pages while users are being created", async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const made: string[] = [];
    for (let i = 0; i < 9; i++) {
      made.push((await createConfirmedUser(t, `page-${tag}`)).userId);
      clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { users: AdminUser[]; next_cursor: string | null } = await json(
        await admin.call("GET", `/users?limit=4&email_prefix=page-${tag}${cursor ? `&cursor=${cursor}` : ""}`),
      );
      seen.push(...page.users.map((u) => u.id));
      // Someone signs up while the pages are being read (a user made after the last page is for the next walk).
      if (page.next_cursor && made.length < 13) {
        made.push((await createConfirmedUser(t, `page-${tag}`)).userId);
        clock.advance(1);
      }
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made);
  });

  it("filters by confirmation, disabled state and creation time, and refuses a forged cursor", async () => {
    const { userId } = await createConfirmedUser(t, "filter");
    const created = new Date(clock.now()).toISOString();
    const page: { users: AdminUser[] } = await json(await admin.call("GET", `/users?created_after=${encodeURIComponent(created)}&disabled=false&confirmed=true&limit=200`));
    expect(page.users.map((u) => u.id)).toContain(userId);
    expect(await errorCode(await admin.call("GET", "/users?cursor=bm90IG91cnM"))).toBe("validation_failed");
  });

  it("shows one user with sessions count and suppression state; 404 for an unknown id", async () => {
    const { userId, email } = await createConfirmedUser(t, "one");
    await t.deps.db.insert(suppressions).values({ email, reason: "hard bounce", createdAt: clock.now() });
    const { user } = await json<{ user: Record<string, unknown> }>(await admin.call("GET", `/users/${userId}`));
    expect(user).toMatchObject({ id: userId, email, sessions_count: 1, suppression: { suppressed: true, reason: "hard bounce" } });
    expect((await admin.call("GET", "/users/nobody")).status).toBe(404);
    // Lifting the suppression.
    expect((await admin.call("DELETE", `/users/${userId}/suppression`)).status).toBe(204);
    const after = await json<{ user: { suppression: { suppressed: boolean } } }>(await admin.call("GET", `/users/${userId}`));
    expect(after.user.suppression.suppressed).toBe(false);
  });

  it("disables a user: every session ends at once, refresh and login are refused; enabling lets them log in again", async () => {
    const { userId, email, password, session } = await createConfirmedUser(t, "abuser");
    const res = await admin.call("PATCH", `/users/${userId}`, { disabled: true });
    expect(res.status).toBe(200);
    expect((await json<{ user: AdminUser }>(res)).user.disabled).toBe(true);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    expect((await t.request("/v1/me/events", { token: session.access_token })).status).toBe(401);
    expect(await errorCode(await t.post("/v1/login", { email, password }))).toBe("account_disabled");
    await admin.call("PATCH", `/users/${userId}`, { disabled: false });
    expect((await t.post("/v1/login", { email, password })).status).toBe(200);
  });

  it("sets name and roles, and the next access token carries the roles", async () => {
    const { userId, email, password } = await createConfirmedUser(t, "roles");
    const res = await admin.call("PATCH", `/users/${userId}`, { name: "Ana Admin", roles: ["user", "support"] });
    expect((await json<{ user: AdminUser }>(res)).user).toMatchObject({ name: "Ana Admin", roles: ["user", "support"] });
    const login = await json<{ user: { roles: string[] } }>(await t.post("/v1/login", { email, password }));
    expect(login.user.roles).toEqual(["user", "support"]);
    expect(await errorCode(await admin.call("PATCH", `/users/${userId}`, { roles: ["Not A Role!"] }))).toBe("validation_failed");
  });

  it("lists and revokes a user's sessions, one or all", async () => {
    const { userId, email, password, session } = await createConfirmedUser(t, "sessions");
    await t.post("/v1/login", { email, password });
    const { sessions } = await json<{ sessions: Array<{ id: string }> }>(await admin.call("GET", `/users/${userId}/sessions`));
    expect(sessions).toHaveLength(2);
    const target = sessions.find((s) => s.id !== undefined)!;
    expect((await admin.call("DELETE", `/users/${userId}/sessions/${target.id}`)).status).toBe(204);
    expect((await admin.call("DELETE", `/users/${userId}/sessions/${target.id}`)).status).toBe(404);
    expect((await admin.call("DELETE", `/users/${userId}/sessions`)).status).toBe(204);
    expect((await t.post("/v1/token/refresh", { refresh_token: session.refresh_token })).status).toBe(401);
    const events = await json<{ events: Array<{ type: string; actor: string | null }> }>(await admin.call("GET", `/users/${userId}/events`));
    expect(events.events.filter((e) => e.type === "admin_sessions_revoked").every((e) => e.actor === `key:${admin.id}`)).toBe(true);
  });

  it("needs the right scope for each family", async () => {
    const reader = await adminKey(t, ["users:read"]);
    const { userId } = await createConfirmedUser(t, "scoped");
    for (const [method, path, body] of [
      ["PATCH", `/users/${userId}`, { disabled: true }],
      ["DELETE", `/users/${userId}/sessions`, undefined],
      ["GET", `/users/${userId}/events`, undefined],
    ] as const) {
      expect(await errorCode(await reader.call(method, path, body)), `${method} ${path}`).toBe("insufficient_scope");
    }
  });
});

describe("admin API: invitations", () => {
  it("invites a user: a mail with a link to choose a password, which confirms the account and lets them log in", async () => {
    const email = `invited-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const res = await admin.call("POST", "/users", { email, name: "Ivy", roles: ["user", "staff"] });
    expect(res.status).toBe(201);
    const { user } = await json<{ user: AdminUser & { email_confirmed: boolean } }>(res);
    expect(user).toMatchObject({ email, name: "Ivy", roles: ["user", "staff"], email_confirmed: false });
    // Nothing logs in before a password is chosen.
    expect((await t.post("/v1/login", { email, password: "!invited" })).status).toBe(401);
    await t.settle();
    const mail = (await mailsTo(email)).at(-1);
    expect(mail?.body.subject).toMatch(/invited/i);
    const token = tokenFrom(mail);
    expect((await t.post("/v1/password/reset", { token, password: "ivy's chosen passphrase" })).status).toBe(200);
    const login = await t.post("/v1/login", { email, password: "ivy's chosen passphrase" });
    expect(login.status).toBe(200);
    expect((await json<{ user: { email_confirmed: boolean; roles: string[] } }>(login)).user).toMatchObject({ email_confirmed: true, roles: ["user", "staff"] });
  });

  it("answers 409 email_taken for an address with an account, and voids strangers' pending registrations of it", async () => {
    const { email } = await createConfirmedUser(t, "taken-invite");
    expect(await errorCode(await admin.call("POST", "/users", { email }))).toBe("email_taken");
    const pending = `pending-invite-${crypto.randomUUID().slice(0, 8)}@example.test`;
    await t.post("/v1/register", { email: pending, password: "an attacker's passphrase" });
    await t.settle();
    const strangersLink = tokenFrom((await mailsTo(pending)).at(-1));
    expect((await admin.call("POST", "/users", { email: pending })).status).toBe(201);
    expect((await t.post("/v1/confirm", { token: strangersLink, password: "an attacker's passphrase" })).status).not.toBe(200);
  });
});
