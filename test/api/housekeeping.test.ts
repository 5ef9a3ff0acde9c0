import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { rateLimits } from "../../src/db/schema.ts";
import { createTestService } from "../support/service.ts";

describe("the cron's housekeeping", () => {
  it("drops window counters whose window ended, and keeps live ones and login failure counts", async () => {
    const t = await createTestService();
    const now = Date.now();
    await t.deps.db.insert(rateLimits).values([
      { key: "ip:ended", count: 60, windowEndsAt: now - 1 },
      { key: "mail:reset:ended", count: 5, windowEndsAt: now - 3600_000 },
      { key: "ip:live", count: 3, windowEndsAt: now + 60_000 },
      // Three failures, not locked: the count must survive until a success clears it.
      { key: "login:three-failures", count: 3, windowEndsAt: 0 },
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), t.settings, ctx);
    await waitOnExecutionContext(ctx);
    const keys = (await t.deps.db.select().from(rateLimits)).map((row) => row.key).sort();
    expect(keys).toEqual(["ip:live", "login:three-failures"]);
  });
});
