import { beforeAll, describe, expect, it } from "vitest";
import { adminKey } from "../../support/admin.ts";
import { createConfirmedUser, PASSWORD } from "../../support/flows.ts";
import { createTestService, type TestService } from "../../support/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

interface ValidationBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

async function refusal(res: Response) {
  expect(res.status).toBe(400);
  const body = (await res.json()) as ValidationBody;
  expect(body.error.code).toBe("validation_failed");
  return body.error.details;
}

const EMAIL = "someone@example.test";

describe("a body the schema refuses is explained field by field, in sentences a person can act on", () => {
  it.each([
    { label: "nothing", path: "/v1/register", body: {}, details: [["email", "email is required"], ["password", "password is required"]] },
    { label: "numbers and booleans for strings", path: "/v1/register", body: { email: 42, password: true }, details: [["email", "email must be a string"], ["password", "password must be a string"]] },
    { label: "a list for a body", path: "/v1/register", body: [], details: [["(body)", "the request body must be a JSON object"]] },
    { label: "a string for a body", path: "/v1/password/forgot", body: "someone@example.test", details: [["(body)", "the request body must be a JSON object"]] },
    { label: "no address", path: "/v1/login", body: { email: "not-an-email", password: PASSWORD }, details: [["email", "email must be an email address"]] },
    { label: "a huge address", path: "/v1/login", body: { email: `${"a".repeat(1100)}@example.test`, password: PASSWORD }, details: [["email", "email must be at most 254 characters"]] },
    { label: "a long address", path: "/v1/login", body: { email: `${"a".repeat(60)}@${["b", "c", "d", "e"].map((l) => l.repeat(60)).join(".")}.test`, password: PASSWORD }, details: [["email", "email must be at most 254 characters"]] },
    { label: "a huge password", path: "/v1/login", body: { email: EMAIL, password: "x".repeat(1100) }, details: [["password", "password must be at most 256 characters"]] },
    { label: "a short unlock code", path: "/v1/login", body: { email: EMAIL, password: PASSWORD, unlock_code: "12" }, details: [["unlock_code", "unlock_code must be the 6 digits from the email"]] },
    { label: "a long locale", path: "/v1/register", body: { email: EMAIL, password: PASSWORD, locale: "x".repeat(40) }, details: [["locale", "locale must be at most 35 characters"]] },
    { label: "a number for a name", path: "/v1/register", body: { email: EMAIL, password: PASSWORD, name: 5 }, details: [["name", "name must be a string"]] },
    { label: "a token that is a number", path: "/v1/confirm", body: { token: 5, password: PASSWORD }, details: [["token", "token must be a string"]] },
    { label: "no refresh token", path: "/v1/token/refresh", body: {}, details: [["refresh_token", "refresh_token is required"]] },
    { label: "no reset token", path: "/v1/password/reset", body: { password: PASSWORD }, details: [["token", "token is required (or email and code)"]] },
  ])("$label ($path)", async ({ path, body, details }) => {
    const got = await refusal(await t.post(path, body));
    expect(got).toEqual(details.map(([p, message]) => ({ path: p, message })));
  });

  it("the same for a request without any body", async () => {
    const got = await refusal(await t.request("/v1/password/forgot", { method: "POST" }));
    expect(got).toEqual([{ path: "email", message: "email is required" }]);
  });

  it("the same behind an access token", async () => {
    const { session } = await createConfirmedUser(t, "validation");
    expect(await refusal(await t.post("/v1/logout", { all: "yes" }, session.access_token))).toEqual([
      { path: "all", message: "all must be true or false" },
    ]);
    expect(await refusal(await t.post("/v1/password/change", { current_password: PASSWORD }, session.access_token))).toEqual([
      { path: "new_password", message: "new_password is required" },
    ]);
  });

  it("the same for the Admin API's bodies and queries", async () => {
    const admin = await adminKey(t, ["users:read", "users:write"]);
    expect(await refusal(await admin.call("GET", "/users?limit=lots&disabled=maybe&created_after=yesterday"))).toEqual([
      { path: "limit", message: "limit must be a number" },
      { path: "disabled", message: 'disabled must be "true" or "false"' },
      { path: "created_after", message: "created_after must be a date and time such as 2026-01-15T09:30:00Z" },
    ]);
    expect(await refusal(await admin.call("POST", "/users", { email: EMAIL, roles: ["Admin"] }))).toEqual([
      { path: "roles.0", message: "roles.0 must be 1-32 of a-z 0-9 _ : -, starting with a letter" },
    ]);
    expect(await refusal(await admin.call("PATCH", `/users/${crypto.randomUUID()}`, {}))).toEqual([
      { path: "(body)", message: "the request body must name what to change: name, roles or disabled" },
    ]);
  });
});
