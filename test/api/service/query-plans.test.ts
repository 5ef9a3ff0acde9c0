import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { pruneExpiredRows } from "../../../src/db/retention.ts";
import { unlimitedBudget } from "../../../src/lib/cron-budget.ts";
import { pruneExpiredCounters } from "../../../src/limits/prune.ts";
import { deliverDueMail } from "../../../src/mail/outbox.ts";
import { createConfirmedUser, login, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { codeFrom, mailsTo, setMailFailure, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { onlyOutboxRow } from "../../support/outbox.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { emailEvent, newWebhookSecret, postWebhook } from "../../support/webhooks.ts";
import { adminKey } from "../../support/admin.ts";
import { deliverDueWebhooks } from "../../../src/webhooks/deliver.ts";
import { codeNow, enrollTotp, finishLogin, nextStep, passwordStep } from "../../support/mfa.ts";
import { softAuthenticator } from "../../support/webauthn.ts";
import { newReceiver, serviceWithReceivers } from "../../support/receivers.ts";

// The tables that grow with users and time. A query that reads one of them whole (a SCAN, of the
// table or of a whole index) costs what the table holds: fine for ten rows, not for ten million.
const LARGE_TABLES = [
  "users",
  "sessions",
  "refresh_tokens",
  "email_tokens",
  "audit_events",
  "outbox",
  "rate_limits",
  "registrations",
  "mfa_tokens",
  "webhook_messages",
  "webhook_deliveries",
  "webhook_attempts",
];

interface Captured {
  sql: string;
  count: number;
}

async function statementsOf(dbName: string): Promise<Captured[]> {
  const res = await fetch(`${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/statements`, { headers: { authorization: `Bearer ${env.LIBSQL_AUTH_TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { databases: Record<string, Captured[]> }).databases[dbName] ?? [];
}

/** Placeholders outside string literals and quoted names: SQLite binds what is not given as NULL. */
function placeholders(text: string): number {
  return [...text.matchAll(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\?/g)].filter(([m]) => m === "?").length;
}

async function planOf(t: TestService, text: string): Promise<string[]> {
  const result = await t.deps.db.$client.execute({ sql: `EXPLAIN QUERY PLAN ${text}`, args: new Array(placeholders(text)).fill(null) });
  return result.rows.map((row) => String(row.detail));
}

// A SCAN of a large table, unless it walks an index in the order asked for and the statement stops
// at a LIMIT (a page of a listing): then it reads one page's worth of rows, not the table.
function fullScans(plan: string[], text: string): string[] {
  // SQLite tests a WHERE that names no column once, before its loop: `where 0` plans as a SCAN and
  // reads no row (src/webhooks/deliver.ts counts nothing that way after a response).
  if (/\bwhere 0\s*$/i.test(text)) return [];
  const pagedInIndexOrder = /\blimit\b/i.test(text) && !plan.some((line) => line.includes("USE TEMP B-TREE FOR ORDER BY"));
  return plan.filter((line) => {
    const scan = /^SCAN (\w+)( USING (?:COVERING )?INDEX)?/.exec(line);
    if (!scan || !LARGE_TABLES.includes(scan[1]!)) return false;
    return !(scan[2] && pagedInIndexOrder);
  });
}

async function offendersIn(t: TestService): Promise<Array<{ sql: string; scans: string[] }>> {
  const issued = (await statementsOf(t.dbName)).filter((s) => !/^\s*(EXPLAIN|BEGIN|COMMIT|ROLLBACK|PRAGMA)\b/i.test(s.sql));
  const offenders: Array<{ sql: string; scans: string[] }> = [];
  for (const { sql } of issued) {
    const scans = fullScans(await planOf(t, sql), sql);
    if (scans.length > 0) offenders.push({ sql, scans });
  }
  return offenders;
}

// Every flow, once, on a fresh database: what it sends is what the service sends in production.
async function driveEveryFlow(t: TestService, clock: TestClock, secret: string) {
  const client = (n: number) => ({ "cf-connecting-ip": `198.51.100.${n}` });
  const post = (path: string, json: unknown, headers: Record<string, string> = client(1), token?: string) =>
    t.request(path, { method: "POST", json, headers, token });

  // Sign-up: new address, taken address, resend, confirm with a wrong and the right password, PKCE.
  const { email, session } = await createConfirmedUser(t, "plans");
  await post("/v1/register", { email, password: PASSWORD });
  const pending = uniqueEmail("plans-pending");
  await post("/v1/register", { email: pending, password: PASSWORD, name: "Ana" });
  clock.advance(61_000);
  await post("/v1/confirm/resend", { email: pending });
  await t.settle();
  const confirmToken = tokenFrom((await mailsTo(pending)).at(-1));
  await post("/v1/confirm", { token: confirmToken, password: "not the password at all" });
  await post("/v1/confirm", { token: confirmToken, code_verifier: "v".repeat(43) });
  expect((await post("/v1/confirm", { token: confirmToken, password: PASSWORD })).status).toBe(200);

  // Login: right, wrong, unknown, locked out, the unlock code past the day's failures.
  await login(t, email);
  await post("/v1/login", { email: uniqueEmail("nobody"), password: PASSWORD });
  for (let i = 0; i < t.deps.config.loginFailuresPerDay; i++) await post("/v1/login", { email, password: "wrong wrong wrong" }, client(10 + i));
  await post("/v1/login", { email, password: PASSWORD }, client(99));
  await t.settle();
  const code = /\n([0-9]{6})\n/.exec((await mailsTo(email)).at(-1)?.body.text ?? "")?.[1];
  expect(code).toBeDefined();
  await post("/v1/login", { email, password: PASSWORD, unlock_code: code === "000000" ? "000001" : "000000" }, client(98));
  expect((await post("/v1/login", { email, password: PASSWORD, unlock_code: code }, client(97))).status).toBe(200);

  // Session: me, events, refresh, a reused refresh token, logout, logout everywhere.
  await t.request("/v1/me", { token: session.access_token });
  await t.request("/v1/me/events", { token: session.access_token });
  const refreshed = (await (await post("/v1/token/refresh", { refresh_token: session.refresh_token })).json()) as { session: SessionBody };
  await post("/v1/token/refresh", { refresh_token: session.refresh_token });
  const other = await login(t, email);
  await post("/v1/logout", {}, client(1), other.access_token);
  const third = await login(t, email);
  await post("/v1/logout", { all: true }, client(1), third.access_token);
  expect(refreshed.session).toBeDefined();

  // Passwords: forgot (known, unknown), reset, change.
  clock.advance(61_000);
  await post("/v1/password/forgot", { email });
  await post("/v1/password/forgot", { email: uniqueEmail("nobody") });
  await t.settle();
  const resetToken = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/reset#token=")).at(-1));
  expect((await post("/v1/password/reset", { token: resetToken, password: "a brand new passphrase" })).status).toBe(200);
  const fresh = await login(t, email, "a brand new passphrase");
  await post("/v1/password/change", { current_password: "a brand new passphrase", new_password: "another new passphrase" }, client(1), fresh.access_token);
  await t.request("/health");
  await t.request("/.well-known/jwks.json");

  // Mail: a send that fails (429) waits for the cron; Resend's events about a sent mail.
  const bounced = uniqueEmail("plans-bounce");
  await setMailFailure({ mode: "status", status: 429, times: 1, to: bounced });
  await post("/v1/register", { email: bounced, password: PASSWORD });
  await t.settle();
  const row = await onlyOutboxRow(t, bounced);
  clock.advance(60_000);
  expect(await deliverDueMail(t.deps)).toBe(1);
  const sent = await onlyOutboxRow(t, bounced);
  expect(sent.id).toBe(row.id);
  expect((await postWebhook(t, emailEvent("email.delivered", sent.providerId!, bounced), { secret })).status).toBe(204);
  expect((await postWebhook(t, emailEvent("email.bounced", sent.providerId!, bounced, { bounce: { type: "Permanent" } }), { secret })).status).toBe(204);

  // Housekeeping, much later, when everything above has expired.
  clock.advance(120 * 24 * 3600_000);
  const now = clock.now();
  await pruneExpiredRows(t.deps.db, now, unlimitedBudget());
  await pruneExpiredCounters(t.deps.db, now, unlimitedBudget());
}

// Second factors (authenticator app, recovery codes, passkeys) and the admin API, with a webhook
// endpoint made first so every event on the way is delivered, failed and retried.
async function driveFactorsAndAdmin(t: TestService, clock: TestClock) {
  const origin = "https://auth.example.test";
  const webhooks = await adminKey(t, ["webhooks:read", "webhooks:write"]);
  const receiver = await newReceiver("plans");
  await receiver.behave({ mode: "status", status: 500, times: 2 });
  const created = (await (await webhooks.call("POST", "/webhooks/endpoints", { url: receiver.url, description: "plans" })).json()) as { endpoint: { id: string } };
  const endpoint = `/webhooks/endpoints/${created.endpoint.id}`;
  const { email, session, userId } = await createConfirmedUser(t, "plans-mfa");
  const { secret } = await enrollTotp(t, session.access_token);
  const activated = await t.post("/v1/mfa/totp/activate", { code: await codeNow(t, secret) }, session.access_token);
  expect(activated.status).toBe(200);
  const { recovery_codes: recoveryCodes } = (await activated.json()) as { recovery_codes: string[] };
  nextStep(clock);
  const step = await passwordStep(t, email);
  expect((await finishLogin(t, { mfa_token: step.mfa_token, code: await codeNow(t, secret) })).status).toBe(200);
  const again = await passwordStep(t, email);
  const signedIn = await finishLogin(t, { mfa_token: again.mfa_token, recovery_code: recoveryCodes[0] });
  expect(signedIn.status).toBe(200);
  const token = ((await signedIn.json()) as { session: SessionBody }).session.access_token;
  await t.request("/v1/mfa", { token });
  await t.post("/v1/mfa/recovery-codes", { password: PASSWORD, code: await codeNow(t, secret, 1) }, token);

  // A passkey: registered, then used to sign in without the address.
  const authenticator = await softAuthenticator({ rpId: "example.test", origin });
  const options = (await (await t.post("/v1/mfa/passkeys/options", { password: PASSWORD }, token)).json()) as { options: { challenge: string } };
  expect((await t.post("/v1/mfa/passkeys", { passkey: await authenticator.register(options.options.challenge), name: "Laptop" }, token)).status).toBe(201);
  const login = (await (await t.post("/v1/login/passkey/options", {})).json()) as { options: { challenge: string } };
  expect((await t.post("/v1/login/passkey", { passkey: await authenticator.assert(login.options.challenge) })).status).toBe(200);

  // The admin API: keys, a listing page by page and filtered, a user's details, changes, an invite.
  const admin = await adminKey(t, ["users:read", "users:write", "sessions:write", "audit:read", "keys:write"]);
  await admin.call("POST", "/keys", { name: "plans", scopes: ["users:read"] });
  await admin.call("GET", "/keys");
  const first = (await (await admin.call("GET", "/users?limit=1")).json()) as { next_cursor: string | null };
  await admin.call("GET", `/users?limit=1&cursor=${encodeURIComponent(first.next_cursor ?? "")}`);
  await admin.call("GET", `/users?email_prefix=plans&confirmed=true&disabled=false&created_after=${encodeURIComponent(new Date(0).toISOString())}`);
  await admin.call("GET", `/users/${userId}`);
  await admin.call("GET", `/users/${userId}/sessions`);
  await admin.call("GET", `/users/${userId}/events`);
  await admin.call("PATCH", `/users/${userId}`, { name: "Ana Plans", roles: ["user", "staff"] });
  await admin.call("DELETE", `/users/${userId}/suppression`);
  await admin.call("POST", `/users/${userId}/mfa/reset`, {});
  await admin.call("DELETE", `/users/${userId}/sessions`);
  expect((await admin.call("POST", "/users", { email: uniqueEmail("plans-invite"), name: "Invited" })).status).toBe(201);

  // The admin API's webhook endpoints: every operation, the cron's retries, and a page walk.
  await t.settle();
  clock.advance(10_000);
  await deliverDueWebhooks(t.deps);
  await webhooks.call("GET", "/webhooks/endpoints");
  await webhooks.call("GET", endpoint);
  await webhooks.call("PATCH", endpoint, { events: ["session.created", "user.updated"], enabled: true });
  await webhooks.call("POST", `${endpoint}/rotate-secret`, {});
  const page = (await (await webhooks.call("GET", `${endpoint}/messages?limit=2`)).json()) as { messages: Array<{ id: string }>; next_cursor: string };
  expect(page.messages).toHaveLength(2);
  await webhooks.call("GET", `${endpoint}/messages?limit=2&cursor=${page.next_cursor}`);
  await webhooks.call("GET", `${endpoint}/messages?status=succeeded&cursor=${page.next_cursor}`);
  expect((await webhooks.call("GET", `${endpoint}/messages/${page.messages[0]!.id}/attempts`)).status).toBe(200);
  expect((await webhooks.call("POST", `${endpoint}/messages/${page.messages[0]!.id}/replay`, {})).status).toBe(202);
  expect((await webhooks.call("POST", `${endpoint}/replay`, { since: new Date(0).toISOString() })).status).toBe(202);
  await t.settle();
  expect((await webhooks.call("DELETE", endpoint)).status).toBe(204);
}

// The account's own lifecycle, with a webhook endpoint so the events' fan-out and delivery run too:
// sessions listed and ended, the export, an email change confirmed and undone, and accounts erased
// by their owner and by an admin key.
async function driveAccountLifecycle(t: TestService, clock: TestClock) {
  const { email, session } = await createConfirmedUser(t, "plans-life");
  const other = await login(t, email);
  await t.request("/v1/sessions", { token: session.access_token });
  await t.request(`/v1/sessions/${decodeJwt(other.access_token).sid as string}`, { method: "DELETE", token: session.access_token });
  await t.request("/v1/me/export", { token: session.access_token });

  const next = uniqueEmail("plans-life-new");
  clock.advance(61_000);
  expect((await t.post("/v1/email/change", { new_email: next, password: PASSWORD }, session.access_token)).status).toBe(202);
  await t.settle();
  const confirmMail = (await mailsTo(next)).at(-1);
  const undo = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/email/revert#token=")).at(-1));
  expect((await t.post("/v1/email/change/confirm", { email: next, code: codeFrom(confirmMail) })).status).toBe(200);
  expect((await t.post("/v1/email/change/revert", { token: undo })).status).toBe(200);
  // An address another account holds, and a cancel before the change happened.
  const holder = await createConfirmedUser(t, "plans-life-holder");
  const fresh = await login(t, email);
  clock.advance(61_000);
  expect((await t.post("/v1/email/change", { new_email: holder.email, password: PASSWORD }, fresh.access_token)).status).toBe(202);
  clock.advance(61_000);
  expect((await t.post("/v1/email/change", { new_email: uniqueEmail("plans-life-cancel"), password: PASSWORD }, fresh.access_token)).status).toBe(202);
  await t.settle();
  const cancel = tokenFrom((await mailsTo(email)).filter((m) => m.body.text?.includes("/email/revert#token=")).at(-1));
  expect((await t.post("/v1/email/change/revert", { token: cancel })).status).toBe(200);

  expect((await t.request("/v1/me", { method: "DELETE", json: { password: PASSWORD }, token: fresh.access_token })).status).toBe(204);
  const admin = await adminKey(t, ["users:write"]);
  expect((await admin.call("DELETE", `/users/${holder.userId}`)).status).toBe(204);
  await t.settle();
}

describe("every statement the service issues", () => {
  it("is answered through an index: no query plan reads a large table whole", async () => {
    const secret = newWebhookSecret();
    // Webhook signatures are checked against the real time as well, so the clock starts there.
    const clock = new TestClock(Date.now());
    const t = await createTestService({ clock, settings: { RESEND_WEBHOOK_SECRET: secret, LOGIN_FAILURES_PER_DAY: "5" } });
    await driveEveryFlow(t, clock, secret);
    await setMailFailure({ mode: "none", to: uniqueEmail("unused") });

    // Enough distinct statements that the flows above really ran (the list grows with features).
    expect((await statementsOf(t.dbName)).length).toBeGreaterThan(50);
    expect(await offendersIn(t)).toEqual([]);
  });

  it("for second factors and the admin API too", async () => {
    const clock = new TestClock();
    const t = await createTestService({ clock, settings: { WEBAUTHN_RP_ID: "example.test" } });
    await driveFactorsAndAdmin(t, clock);
    expect((await statementsOf(t.dbName)).length).toBeGreaterThan(40);
    expect(await offendersIn(t)).toEqual([]);
  });

  it("for the account lifecycle too: sessions, export, email change, erasure", async () => {
    const receiver = await newReceiver("plans");
    const { t, clock } = await serviceWithReceivers([receiver]);
    await driveAccountLifecycle(t, clock);
    expect((await statementsOf(t.dbName)).length).toBeGreaterThan(40);
    expect(await offendersIn(t)).toEqual([]);
    expect((await receiver.accepted()).map((p) => p.type)).toContain("user.deleted");
  });

  it("would be caught reading a large table whole", async () => {
    const t = await createTestService();
    const scans = async (text: string) => fullScans(await planOf(t, text), text);
    expect(await scans("select id from sessions where revoked_reason = ?")).toEqual(["SCAN sessions"]);
    expect(await scans("select count(*) from audit_events")).toHaveLength(1);
    expect(await scans("select id from users order by name limit 10")).toEqual(["SCAN users"]);
    expect(await scans("select id from sessions where id = ?")).toEqual([]);
    expect(await scans("select count(*) from sessions where 0")).toEqual([]);
    // A page in index order is no full read.
    expect(await scans("select id from users order by email limit 10")).toEqual([]);
  });
});
