import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/lib/errors.ts";
import { operations } from "../../../src/contract/operations.ts";
import { contractViolation } from "../../support/conformance.ts";
import { createTestService } from "../../support/service.ts";

describe("the contract", () => {
  it("serves an OpenAPI 3.1 document with every operation and both security schemes", async () => {
    const t = await createTestService();
    const res = await t.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { securitySchemes: object } };
    expect(doc.openapi).toMatch(/^3\.1\./);
    for (const op of operations()) expect(doc.paths[op.path]?.[op.method], `${op.method} ${op.path}`).toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["accessToken", "adminKey"]);
    // The request body is what the route validates with, as clients send it.
    const login = doc.paths["/v1/login"]!.post as { requestBody: { content: { "application/json": { schema: { required: string[] } } } } };
    expect(login.requestBody.content["application/json"].schema.required).toEqual(["email", "password"]);
  });

  // The script itself is a static asset (tools/build-assets.ts, test/node/build-assets.test.ts), not the Worker's.
  it("serves the reference page with its script from this origin, admitted by a nonce", async () => {
    const t = await createTestService();
    const res = await t.request("/docs");
    const csp = res.headers.get("content-security-policy")!;
    const html = await res.text();
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(html).toContain('<script nonce="' + nonce + '" src="/docs/scalar.js">');
    expect(html).not.toMatch(/https?:\/\/(?!auth\.example\.test)[^"' ]*\.(js|css)/);
    for (const script of html.match(/<script[^>]*>/g)!) expect(script).toContain(`nonce="${nonce}"`);
  });

  it("fails a test whose route answers a status the contract does not list", async () => {
    const t = await createTestService();
    // The JWKS endpoint lists 200 and 500; make it answer 415 for real.
    t.deps.jwt = Object.assign(Object.create(t.deps.jwt), {
      jwks() {
        throw new AppError("unsupported_media_type");
      },
    });
    await expect(t.request("/.well-known/jwks.json")).rejects.toThrow(/status 415 is not documented for jwks/);
  });

  it("fails a body that does not match the documented schema, an undocumented code, and an unknown path", async () => {
    const url = "https://auth.example.test";
    const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    expect(await contractViolation("GET", `${url}/health`, json({ status: "fine" }, 200))).toMatch(/does not match its schema/);
    const error = (code: string) => ({ error: { code, message: "m", request_id: "r" } });
    expect(await contractViolation("POST", `${url}/v1/token/refresh`, json(error("invalid_credentials"), 401))).toMatch(/code invalid_credentials is not documented/);
    expect(await contractViolation("POST", `${url}/v1/token/refresh`, json(error("invalid_token"), 401))).toBeNull();
    expect(await contractViolation("GET", `${url}/v1/nowhere`, json({ ok: true }, 200))).toMatch(/no operation in the contract has this path/);
    expect(await contractViolation("GET", `${url}/v1/nowhere`, json(error("not_found"), 404))).toBeNull();
    expect(await contractViolation("GET", `${url}/v1/login`, json(error("method_not_allowed"), 405))).toMatch(/405 without Allow/);
  });
});

describe("the contract's webhooks", () => {
  it("describes the payload of every event in the catalogue", async () => {
    const { WEBHOOK_EVENT_TYPES } = await import("../../../src/lib/webhook-events.ts");
    const { WEBHOOK_EVENT_FIELDS } = (await import("../../../src/contract/responses.ts")).responseSchemas();
    expect(Object.keys(WEBHOOK_EVENT_FIELDS).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    const t = await createTestService();
    const doc = (await (await t.request("/openapi.json")).json()) as { webhooks: Record<string, unknown> };
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });
});
