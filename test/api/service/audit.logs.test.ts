import { sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestService, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createConfirmedUser, type SessionBody } from "../../support/flows.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService({ settings: { LOGIN_LOCKOUT_THRESHOLD: "2" } });
});

// Everything the Worker writes to the console during `run`, one entry per call.
async function captureLogs(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.name}: ${a.message}` : JSON.stringify(a))).join(" "));
  };
  for (const method of ["log", "info", "warn", "error", "debug"] as const) vi.spyOn(console, method).mockImplementation(record);
  await run();
  return lines;
}
afterEach(() => {
  vi.restoreAllMocks();
});

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe("logs", () => {
  it("hold no password, token or email address across every flow, and no line for a request that went well", async () => {
    const email = uniqueEmail("Logged.Person");
    const secrets = new Set<string>();
    const passwords = ["first passphrase here", "second passphrase here", "third passphrase here", "a wrong one entirely"];
    passwords.forEach((p) => secrets.add(p));
    const post = (path: string, body: unknown, token?: string) => t.post(path, body, token);
    const keep = (session: SessionBody) => {
      secrets.add(session.access_token);
      secrets.add(session.refresh_token);
      return session;
    };

    const lines = await captureLogs(async () => {
      await post("/v1/register", { email: email.toUpperCase(), password: passwords[0], name: "Logged Person" });
      await t.settle();
      const confirmToken = tokenFrom((await mailsTo(email))[0]);
      secrets.add(confirmToken);
      keep((await json<{ session: SessionBody }>(await post("/v1/confirm", { token: confirmToken, password: passwords[0] }))).session);
      await post("/v1/login", { email, password: passwords[3] });
      const session = keep((await json<{ session: SessionBody }>(await post("/v1/login", { email, password: passwords[0] }))).session);
      const refreshed = keep((await json<{ session: SessionBody }>(await post("/v1/token/refresh", { refresh_token: session.refresh_token }))).session);
      await post("/v1/token/refresh", { refresh_token: session.refresh_token });
      await t.request("/v1/me", { token: refreshed.access_token });
      await t.request("/v1/me/events", { token: refreshed.access_token });
      await post("/v1/password/forgot", { email });
      await t.settle();
      const resetToken = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
      secrets.add(resetToken);
      await post("/v1/password/reset", { token: resetToken, password: passwords[1] });
      await post("/v1/password/reset", { token: resetToken, password: passwords[1] });
      const next = keep((await json<{ session: SessionBody }>(await post("/v1/login", { email, password: passwords[1] }))).session);
      const changed = keep(
        (await json<{ session: SessionBody }>(await post("/v1/password/change", { current_password: passwords[1], new_password: passwords[2] }, next.access_token))).session,
      );
      await t.settle();
      // Refusals that echo nothing back: bad input, weak password, lock-out.
      await post("/v1/register", { email, password: "password123" });
      await post("/v1/register", { email: `${email}>`, password: passwords[0] });
      await t.request("/v1/login", { method: "POST", body: `{"email": "${email}", "password": "${passwords[0]}"`, headers: { "content-type": "application/json" } });
      for (let i = 0; i < 3; i++) await post("/v1/login", { email, password: passwords[3] });
      await post("/v1/logout", {}, changed.access_token);
    });

    const forbidden = [...secrets, email, email.toUpperCase(), email.toLowerCase(), email.split("@")[0]!, email.split("@")[0]!.toLowerCase()];
    for (const line of lines) {
      for (const secret of forbidden) expect(line.includes(secret), `log line leaks ${secret.slice(0, 12)}…: ${line}`).toBe(false);
    }
    // Workers observability records every invocation; the app adds no line of its own per request,
    // and nothing in these flows failed on our side.
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((p) => p.event)).toEqual([]);
  });

  it("log a 5xx answer once, with the request id the client was given", async () => {
    const down = await createTestService({ settings: { DB_URL: "http://127.0.0.1:9/db/gone/" } });
    let requestId = "";
    const lines = await captureLogs(async () => {
      const res = await down.post("/v1/password/forgot", { email: uniqueEmail("five-hundred") });
      expect(res.status).toBe(503);
      requestId = ((await res.json()) as { error: { request_id: string } }).error.request_id;
    });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toEqual([
      { event: "request_failed", time: expect.any(String), requestId, code: "db_unavailable", method: "POST", route: "/v1/password/forgot" },
    ]);
  });

  it("does not log a failed query's parameters when the database is down", async () => {
    const { session, userId, email } = await createConfirmedUser(t, "db-down");
    const down = await createTestService({ settings: { DB_URL: "http://127.0.0.1:9/db/gone/" } });
    const lines = await captureLogs(async () => {
      expect((await down.request("/v1/me/events", { token: session.access_token })).status).toBe(503);
      expect((await down.post("/v1/login", { email, password: "whatever it is" })).status).toBe(503);
    });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(userId);
      expect(line).not.toContain(email);
      expect(line).not.toContain("Failed query");
    }
  });

  it("logs a failing query without its parameters", async () => {
    const broken = await createTestService();
    const { session, userId } = await createConfirmedUser(broken, "sql-error");
    await broken.deps.db.run(sql`drop table audit_events`);
    const lines = await captureLogs(async () => {
      expect((await broken.request("/v1/me/events", { token: session.access_token })).status).toBe(500);
    });
    const errors = lines.filter((l) => l.includes("unhandled_error"));
    expect(errors).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(errors[0]).toContain("no such table");
    expect(errors[0]).not.toContain(userId);
  });
});
