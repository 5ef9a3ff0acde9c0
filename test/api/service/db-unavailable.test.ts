import { describe, expect, it } from "vitest";
import { generateToken } from "../../../src/lib/crypto/tokens.ts";
import { createTestService } from "../../support/service.ts";
import { errorCode } from "../../support/flows.ts";

describe("a database that cannot be reached", () => {
  it("answers every kind of endpoint with 503 db_unavailable, not a 500", async () => {
    // Nothing listens on port 9: the libSQL server (or Turso) is down.
    const t = await createTestService({ settings: { DB_URL: "http://127.0.0.1:9/" } });
    const calls = [
      () => t.request("/health"),
      () => t.post("/v1/login", { email: "a@example.test", password: "whatever password" }),
      () => t.post("/v1/register", { email: "b@example.test", password: "whatever password" }),
      () => t.post("/v1/token/refresh", { refresh_token: generateToken() }),
      () => t.post("/v1/password/forgot", { email: "c@example.test" }),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe("db_unavailable");
    }
  });
});
