import { describe, expect, it } from "vitest";
import { createDb } from "../../../src/db/client.ts";
import { createTestService, TestClock } from "../../support/service.ts";

// A port nothing listens on: the database is down.
const unreachable = () => createDb("http://127.0.0.1:9/");

async function service() {
  const clock = new TestClock();
  const t = await createTestService({ clock });
  return { clock, t, working: t.deps.db };
}

describe("GET /health", () => {
  it("asks the database once per 5 seconds, however often it is probed", async () => {
    const { clock, t } = await service();
    const before = await t.dbRoundTrips();
    for (let i = 0; i < 3; i++) expect((await t.request("/health")).status).toBe(200);
    clock.advance(4_999);
    expect((await t.request("/health")).status).toBe(200);
    expect((await t.dbRoundTrips()) - before).toBe(1);

    clock.advance(1);
    expect((await t.request("/health")).status).toBe(200);
    expect((await t.dbRoundTrips()) - before).toBe(2);
  });

  it("trusts a good probe for 5 seconds, so an outage shows at the latest 5 seconds later", async () => {
    const { clock, t } = await service();
    expect((await t.request("/health")).status).toBe(200);
    t.deps.db = unreachable();
    expect((await t.request("/health")).status).toBe(200);
    clock.advance(5_000);
    expect((await t.request("/health")).status).toBe(503);
  });

  // Failures are not remembered: every probe during an outage asks again, so recovery shows at once.
  it("answers 503 db_unavailable on every probe while the database is down, and 200 as soon as it is back", async () => {
    const { t, working } = await service();
    t.deps.db = unreachable();
    for (let i = 0; i < 2; i++) {
      const res = await t.request("/health");
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("db_unavailable");
    }
    t.deps.db = working;
    expect((await t.request("/health")).status).toBe(200);
  });
});
