import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startResendStandIn, type ResendStandIn } from "../../tools/resend-stand-in/server.ts";

// Its own stand-in, not the shared one, so reset and goDown cannot disturb other test files.
let standIn: ResendStandIn;

beforeAll(async () => {
  standIn = await startResendStandIn({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(async () => {
  await post("/_test/reset", {});
});

const validEmail = { from: "a@acme.test", to: "ana@example.test", subject: "Hi", html: "<p>Hi</p>", text: "Hi" };

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${standIn.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function send(body: unknown = validEmail, headers: Record<string, string> = {}): Promise<Response> {
  return post("/emails", body, { authorization: "Bearer re_123", ...headers });
}

async function json(path: string): Promise<unknown> {
  return (await fetch(`${standIn.url}${path}`)).json();
}

describe("POST /emails", () => {
  it("records the mail and answers its id", async () => {
    const response = await send(validEmail, { "idempotency-key": "k-1" });
    const { id } = (await response.json()) as { id: string };

    expect(response.status).toBe(200);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(standIn.messages()).toEqual([
      {
        id,
        receivedAt: expect.any(String),
        headers: { authorization: "Bearer re_123", idempotencyKey: "k-1" },
        body: validEmail,
      },
    ]);
  });

  it("answers 401 in Resend's error shape without a Bearer key", async () => {
    const response = await post("/emails", validEmail);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ statusCode: 401, name: "missing_api_key", message: expect.any(String) });
    expect(standIn.messages()).toEqual([]);
  });

  it.each(["from", "to", "subject"])("answers 422 without %s", async (field) => {
    const response = await send({ ...validEmail, [field]: undefined });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ statusCode: 422, name: "missing_required_field" });
  });

  it("answers 422 without html or text", async () => {
    const response = await send({ ...validEmail, html: undefined, text: undefined });
    expect(response.status).toBe(422);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const response = await send("{not json");
    expect(response.status).toBe(400);
  });

  it("answers 404 for unknown paths in the error shape", async () => {
    const response = await fetch(`${standIn.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ statusCode: 404, name: "not_found" });
  });
});

describe("idempotency", () => {
  it("answers the first id for a repeated key and body, delivering once", async () => {
    const first = (await (await send(validEmail, { "idempotency-key": "k-2" })).json()) as { id: string };
    const second = (await (await send(validEmail, { "idempotency-key": "k-2" })).json()) as { id: string };

    expect(second.id).toBe(first.id);
    expect(standIn.messages()).toHaveLength(1);
    expect(await json("/_test/idempotency")).toEqual({ "k-2": { deliveries: 1, requests: 2 } });
  });

  it("refuses a reused key with a different body", async () => {
    await send(validEmail, { "idempotency-key": "k-3" });
    const response = await send({ ...validEmail, subject: "Other" }, { "idempotency-key": "k-3" });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ name: "invalid_idempotent_request" });
  });

  it("delivers every request without a key", async () => {
    await send();
    await send();
    expect(standIn.messages()).toHaveLength(2);
  });
});

describe("POST /emails/batch", () => {
  const mail = (to: string) => ({ ...validEmail, to });
  const batch = (body: unknown, headers: Record<string, string> = {}) => post("/emails/batch", body, { authorization: "Bearer re_123", ...headers });

  it("delivers every mail of the batch and answers their ids in order", async () => {
    const response = await batch([mail("a@example.test"), mail("b@example.test")], { "idempotency-key": "b-1" });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: Array<{ id: string }> };
    expect(standIn.messages().map((m) => [m.id, m.body.to, m.headers.idempotencyKey])).toEqual([
      [data[0]!.id, "a@example.test", "b-1"],
      [data[1]!.id, "b@example.test", "b-1"],
    ]);
  });

  it("delivers a batch resent under its key once, and answers the same ids", async () => {
    const body = [mail("a@example.test"), mail("b@example.test")];
    const first = await (await batch(body, { "idempotency-key": "b-2" })).json();
    const second = await (await batch(body, { "idempotency-key": "b-2" })).json();
    expect(second).toEqual(first);
    expect(standIn.messages()).toHaveLength(2);
    expect(await json("/_test/idempotency")).toEqual({ "b-2": { deliveries: 1, requests: 2 } });
    expect((await batch([mail("c@example.test")], { "idempotency-key": "b-2" })).status).toBe(409);
  });

  it("refuses the whole batch for one invalid mail, unless validation is permissive", async () => {
    const body = [mail("a@example.test"), { ...validEmail, to: [] }, mail("c@example.test")];
    expect((await batch(body)).status).toBe(422);
    expect(standIn.messages()).toEqual([]);

    const response = await batch(body, { "x-batch-validation": "permissive" });
    const answer = (await response.json()) as { data: Array<{ id: string }>; errors: Array<{ index: number }> };
    expect(answer.errors).toEqual([{ index: 1, message: expect.any(String) }]);
    expect(answer.data.map((d) => d.id)).toEqual(standIn.messages().map((m) => m.id));
    expect(standIn.messages().map((m) => m.body.to)).toEqual(["a@example.test", "c@example.test"]);
  });

  it("refuses more than 100 mails, and plays failures scoped to any recipient of the batch", async () => {
    expect((await batch(Array.from({ length: 101 }, (_, i) => mail(`m${i}@example.test`)))).status).toBe(422);
    standIn.setFailure({ mode: "status", status: 500, times: 1, to: "b@example.test" });
    expect((await batch([mail("a@example.test"), mail("b@example.test")])).status).toBe(500);
    expect((await batch([mail("a@example.test"), mail("b@example.test")])).status).toBe(200);
  });
});

describe("failure modes", () => {
  it("answers the chosen status `times` times, then recovers", async () => {
    standIn.setFailure({ mode: "status", status: 500, times: 2 });
    expect((await send()).status).toBe(500);
    expect((await send()).status).toBe(500);
    expect((await send()).status).toBe(200);
    expect(standIn.messages()).toHaveLength(1);
  });

  it("sends Retry-After with a 429", async () => {
    standIn.setFailure({ mode: "status", status: 429, retryAfterSeconds: 3 });
    const response = await send();
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(await response.json()).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
  });

  it("drops the connection without an answer in reset mode", async () => {
    standIn.setFailure({ mode: "reset", times: 1 });
    await expect(send()).rejects.toThrow();
    expect((await send()).status).toBe(200);
  });

  it("scopes a failure to one recipient when `to` is given", async () => {
    standIn.setFailure({ mode: "status", status: 500, to: "Bob@Example.test" });
    expect((await send({ ...validEmail, to: ["bob@example.test"] })).status).toBe(500);
    expect((await send()).status).toBe(200);
    standIn.setFailure({ mode: "none", to: "bob@example.test" });
    expect((await send({ ...validEmail, to: "bob@example.test" })).status).toBe(200);
  });

  it("is settable over HTTP and refuses what is not a FailureMode", async () => {
    expect((await post("/_test/failure", { mode: "status", status: 422 })).status).toBe(200);
    expect((await send()).status).toBe(422);
    expect((await post("/_test/failure", { mode: "status", status: 418 })).status).toBe(422);
    expect((await post("/_test/failure", { mode: "reset", times: 0 })).status).toBe(422);
    expect((await post("/_test/failure", { mode: "none" })).status).toBe(200);
    expect((await send()).status).toBe(200);
  });
});

describe("test endpoints", () => {
  it("lists the messages to one address, newest last", async () => {
    await send({ ...validEmail, subject: "one" });
    await send({ ...validEmail, to: "other@example.test" });
    await send({ ...validEmail, subject: "two" });

    const listed = (await json("/_test/messages?to=ANA@example.test")) as Array<{ body: { subject: string } }>;
    expect(listed.map((mail) => mail.body.subject)).toEqual(["one", "two"]);
  });

  it("forgets messages, keys and failures on reset", async () => {
    standIn.setFailure({ mode: "status", status: 500, to: "x@example.test" });
    await send(validEmail, { "idempotency-key": "k-4" });
    await post("/_test/reset", {});

    expect(await json("/_test/messages")).toEqual([]);
    expect(await json("/_test/idempotency")).toEqual({});
    expect((await send({ ...validEmail, to: "x@example.test" })).status).toBe(200);
  });
});

describe("goDown", () => {
  it("refuses connections while down, even from a kept-alive client, and comes back on the same port", async () => {
    expect((await send()).status).toBe(200);
    const back = standIn.goDown(100);
    const error = await send().then(
      () => null,
      (err: unknown) => err,
    );
    await back;

    expect((error as { cause?: { code?: string } } | null)?.cause?.code).toBe("ECONNREFUSED");
    expect((await send()).status).toBe(200);
    expect(standIn.url).toBe(`http://127.0.0.1:${standIn.port}`);
  });
});
