import { beforeAll, describe, expect, it } from "vitest";
import { count } from "drizzle-orm";
import { emailTokens, outbox, refreshTokens, sessions, users } from "../../../src/db/schema.ts";
import { createTestService, type TestService } from "../../support/service.ts";
import { createConfirmedUser, PASSWORD, type SessionBody } from "../../support/flows.ts";
import { mailsTo, tokenFrom } from "../../support/mail.ts";

let t: TestService;
let session: SessionBody;
let knownEmail: string;
beforeAll(async () => {
  t = await createTestService();
  ({ session, email: knownEmail } = await createConfirmedUser(t, "hostile"));
});

// freeText: fields where any string within the length caps is valid input (a password may well
// contain SQL or HTML); they get only non-strings and over-long strings here, and the round trip
// of such a password is tested below. accepts: bodies that are valid for that endpoint.
const ENDPOINTS = [
  { path: "/v1/register", fields: ["email", "password", "name", "locale"], freeText: ["password", "locale"] },
  { path: "/v1/confirm", fields: ["token"] },
  { path: "/v1/confirm/resend", fields: ["email"] },
  { path: "/v1/login", fields: ["email", "password"] },
  { path: "/v1/token/refresh", fields: ["refresh_token"] },
  { path: "/v1/logout", fields: ["all"], bearer: true, accepts: ["an empty object", "a boolean"] },
  { path: "/v1/password/forgot", fields: ["email"] },
  { path: "/v1/password/reset", fields: ["token", "password"] },
  { path: "/v1/password/change", fields: ["current_password", "new_password"], bearer: true },
  { path: "/v1/email/change", fields: ["new_email", "password"], freeText: ["password"], bearer: true },
  { path: "/v1/email/change/confirm", fields: ["token", "email", "code"] },
  { path: "/v1/email/change/revert", fields: ["token"] },
] as const;

// Rows that a request which is refused must not create.
async function stateCounts() {
  const { db } = t.deps;
  const rows = await db.batch([
    db.select({ n: count() }).from(users),
    db.select({ n: count() }).from(sessions),
    db.select({ n: count() }).from(refreshTokens),
    db.select({ n: count() }).from(emailTokens),
    db.select({ n: count() }).from(outbox),
  ]);
  const [u, s, r, e, o] = rows.map((r) => r[0]!.n);
  return { users: u, sessions: s, refreshTokens: r, emailTokens: e, outbox: o };
}

interface Attempt {
  path: string;
  body: BodyInit | null;
  contentType?: string | null;
  bearer?: boolean;
}

async function send({ path, body, contentType = "application/json", bearer }: Attempt) {
  const headers = new Headers();
  if (contentType) headers.set("content-type", contentType);
  if (bearer) headers.set("authorization", `Bearer ${session.access_token}`);
  return t.request(path, { method: "POST", body, headers });
}

async function expectRefused(attempt: Attempt, label: string) {
  const res = await send(attempt);
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${text}`).toBeLessThan(500);
  const json = JSON.parse(text) as { error: { code: string; message: string; request_id: string } };
  expect(json.error.code, label).toMatch(/^[a-z_]+$/);
  // Nothing from the input or from the internals comes back.
  expect(text, label).not.toMatch(/<script|SQLITE|drizzle|select |insert |ZodError|\bat [\w.]+ \(/i);
  return res.status;
}

// Each is invalid for any field it is put in: never a valid email, token, password or flag.
const HOSTILE_VALUES: Array<[string, unknown]> = [
  ["a number", 42],
  ["a boolean", true],
  ["null", null],
  ["an array", ["a@example.test"]],
  ["an object", { $ne: null }],
  ["a huge string", "x".repeat(15_000)],
  ["SQL metacharacters", "' OR '1'='1' --; DROP TABLE users;"],
  ["HTML", "<script>alert(1)</script>"],
  ["a NUL byte", "a\u0000@example.test"],
  ["a lone surrogate", "\ud800@example.test"],
  ["a right-to-left override", "\u202etset.elpmaxe@nimda"],
  ["zero-width characters", "ad\u200bmin\u200d@exa\ufeffmple.test"],
  ["a Cyrillic look-alike domain", "admin@ex\u0430mple.test x"],
  ["fullwidth letters", "\uff41\uff44\uff4d\uff49\uff4e\uff20example.test"],
  ["a header injection", "a@example.test\r\nBcc: victim@example.test"],
  ["an overlong email", `${"a".repeat(245)}@example.test`],
];

const FIELDS = ["email", "password", "name", "locale", "token", "refresh_token", "all", "current_password", "new_password"];

const BODIES: Array<[string, string | null, string | null]> = [
  ["an empty body with a JSON content type", "", "application/json"],
  ["whitespace", "   ", "application/json"],
  ["JSON null", "null", "application/json"],
  ["a JSON array", "[]", "application/json"],
  ["a JSON string", '"hello"', "application/json"],
  ["a JSON number", "12", "application/json"],
  ["an empty object", "{}", "application/json"],
  ["truncated JSON", '{"email": "a@example.test", "password": "x', "application/json"],
  ["JSON with a trailing comma", '{"email": "a@example.test",}', "application/json"],
  ["single-quoted JSON", "{'email': 'a@example.test'}", "application/json"],
  ["deep nesting", `${"[".repeat(8000)}${"]".repeat(8000)}`, "application/json"],
  ["deep nesting in every field", JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, "DEEP"]))).replaceAll('"DEEP"', `${'{"a":'.repeat(400)}1${"}".repeat(400)}`), "application/json"],
  ["duplicate keys, the last one bad", '{"email": "a@example.test", "email": 7, "token": "x", "token": 7, "refresh_token": 7, "all": "no", "password": 7, "current_password": 7}', "application/json"],
  // Request.json() drops a BOM, so the fields must still be refused.
  ["a UTF-8 BOM", `\ufeff${JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, 1])))}`, "application/json"],
  ["invalid UTF-8", "\xff\xfe\xfd", "application/json"],
  ["a body over 16 KiB", JSON.stringify({ email: "a@example.test", password: "x".repeat(17_000) }), "application/json"],
  ["form encoding", "email=a%40example.test&password=whatever", "application/x-www-form-urlencoded"],
  ["plain text", '{"email": "a@example.test"}', "text/plain"],
  ["multipart", "--x\r\nContent-Disposition: form-data; name=email\r\n\r\na@example.test\r\n--x--", "multipart/form-data; boundary=x"],
  ["a JSON-looking content type", '{"email": "a@example.test"}', "application/jsonp"],
  ["no content type", '{"email": "a@example.test"}', null],
];

describe("hostile and malformed input: 4xx in the error shape, nothing written", () => {
  describe.each(ENDPOINTS)("$path", (endpoint) => {
    const accepted = (label: string) => "accepts" in endpoint && (endpoint.accepts as readonly string[]).includes(label);
    const freeText = (field: string) => "freeText" in endpoint && (endpoint.freeText as readonly string[]).includes(field);

    it("refuses every malformed body", async () => {
      const before = await stateCounts();
      for (const [label, body, contentType] of BODIES) {
        if (accepted(label)) continue;
        await expectRefused({ path: endpoint.path, body, contentType, bearer: "bearer" in endpoint }, label);
      }
      expect(await stateCounts()).toEqual(before);
    });

    it("refuses every hostile value in every field", async () => {
      const before = await stateCounts();
      for (const field of endpoint.fields) {
        for (const [label, value] of HOSTILE_VALUES) {
          if (accepted(label) || (freeText(field) && typeof value === "string" && value.length < 1000)) continue;
          // Otherwise valid, so the hostile field alone decides. A hostile password only reaches
          // login as a wrong password for the known account: 401, never a session.
          const body = { ...validBody(endpoint.path), [field]: value };
          await expectRefused({ path: endpoint.path, body: JSON.stringify(body), bearer: "bearer" in endpoint }, `${field} as ${label}`);
        }
      }
      expect(await stateCounts()).toEqual(before);
    });
  });

  it("stores a password, a name and an address full of SQL, HTML and unicode tricks as plain text", async () => {
    const email = `o'brien+drop-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const password = "' OR '1'='1' --; <script>\u202e\u0000 DROP TABLE users;";
    // A name may hold only letters and ' - . (src/auth/identity.ts), which still spell SQL.
    const name = "D'Arcy' OR 'x' LIKE 'x";
    expect((await t.post("/v1/register", { email, password, name })).status).toBe(202);
    await t.settle();
    const confirmed = await t.post("/v1/confirm", { token: tokenFrom((await mailsTo(email))[0]), password });
    expect(confirmed.status).toBe(200);
    expect(((await confirmed.json()) as { user: unknown }).user).toMatchObject({ email, name });
    expect((await t.post("/v1/login", { email, password })).status).toBe(200);
    expect((await t.post("/v1/login", { email, password: password.replace("\u0000", "") })).status).toBe(401);
  });

  it("answers 1,000 generated malformed or oversized requests across the endpoints without a 5xx", async () => {
    const random = mulberry32(0x5eed);
    const before = await stateCounts();
    const statuses = new Map<number, number>();
    const attempts = Array.from({ length: 1000 }, () => generateAttempt(random));
    for (let i = 0; i < attempts.length; i += 50) {
      const answers = await Promise.all(attempts.slice(i, i + 50).map((a) => send(a).then(async (r) => [r.status, await r.text()] as const)));
      for (const [status, text] of answers) {
        expect(status, text).toBeGreaterThanOrEqual(400);
        expect(status, text).toBeLessThan(500);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    expect(await stateCounts()).toEqual(before);
    // The generator exercises every kind of refusal, not just one.
    expect([...statuses.keys()].sort()).toEqual([400, 401, 413, 415]);
  });
});

function validBody(path: string): Record<string, unknown> {
  switch (path) {
    case "/v1/register":
      return { email: knownEmail, password: PASSWORD, name: "Ana", locale: "en" };
    case "/v1/login":
      return { email: knownEmail, password: "not the right one" };
    case "/v1/password/change":
      return { current_password: "not the right one", new_password: "another long password" };
    case "/v1/logout":
      return { all: "sometimes" };
    case "/v1/email/change":
      return { new_email: "moved@example.test", password: "not the right one" };
    default:
      return { email: knownEmail, token: "A".repeat(43), refresh_token: "A".repeat(43), password: "another long password" };
  }
}

// Deterministic PRNG so a failure can be replayed.
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function generateAttempt(random: () => number): Attempt {
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const endpoint = pick(ENDPOINTS);
  const bearer = "bearer" in endpoint && random() < 0.5;
  const randomString = (max: number) =>
    Array.from({ length: Math.floor(random() * max) }, () => String.fromCharCode(Math.floor(random() * 0xffff))).join("");
  // Booleans are valid for logout's `all`, so they are left out.
  const wrongType = () => pick([0, -1, 1e308, null, [], [1, "a"], {}, { nested: { deeper: [null] } }]);
  const kind = pick(["bytes", "truncated", "oversized", "content-type", "top-level", "wrong-type", "too-long"] as const);
  switch (kind) {
    case "bytes":
      return { path: endpoint.path, body: `{${randomString(200)}`, bearer };
    case "truncated": {
      const json = JSON.stringify(Object.fromEntries(endpoint.fields.map((f) => [f, randomString(40)])));
      return { path: endpoint.path, body: json.slice(0, Math.max(1, Math.floor(random() * (json.length - 1)))), bearer };
    }
    case "oversized":
      return { path: endpoint.path, body: JSON.stringify({ [pick(endpoint.fields)]: "y".repeat(16_400 + Math.floor(random() * 50_000)) }), bearer };
    case "content-type":
      return { path: endpoint.path, body: "{}", contentType: pick(["text/plain", "text/html", "application/xml", "image/png", "application/x-json"]), bearer };
    case "top-level":
      return { path: endpoint.path, body: JSON.stringify(pick([null, 1, "s", [], [{}], true])), bearer };
    case "wrong-type": {
      const body: Record<string, unknown> = Object.fromEntries(endpoint.fields.map((f) => [f, randomString(30)]));
      body[pick(endpoint.fields)] = wrongType();
      return { path: endpoint.path, body: JSON.stringify(body), bearer };
    }
    case "too-long": {
      const body: Record<string, unknown> = { [pick(endpoint.fields)]: "z".repeat(4100 + Math.floor(random() * 10_000)) };
      return { path: endpoint.path, body: JSON.stringify(body), bearer };
    }
  }
}
