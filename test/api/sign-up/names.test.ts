import { beforeAll, describe, expect, it } from "vitest";
import { count, eq } from "drizzle-orm";
import { users } from "../../../src/db/schema.ts";
import { PASSWORD } from "../../support/flows.ts";
import { mailsTo, uniqueEmail } from "../../support/mail.ts";
import { createTestService, type TestService } from "../../support/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

describe("the name given at registration", () => {
  it.each(["http://evil.test", "Call 555-1234", "evilbank.com"])("refuses %s with 400 validation_failed naming the field, and mails nothing", async (name) => {
    const email = uniqueEmail("name");
    const res = await t.post("/v1/register", { email, password: PASSWORD, name });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: Array<{ path: string; message: string }> } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details).toEqual([{ path: "name", message: expect.stringMatching(/letters|web address/) }]);
    await t.settle();
    expect(await mailsTo(email)).toHaveLength(0);
    expect((await t.deps.db.select({ n: count() }).from(users).where(eq(users.email, email)))[0]!.n).toBe(0);
  });

  it("greets the user by a name in any script", async () => {
    const email = uniqueEmail("name");
    expect((await t.post("/v1/register", { email, password: PASSWORD, name: " Đặng Thị Hương " })).status).toBe(202);
    await t.settle();
    const [mail] = await mailsTo(email);
    expect(mail?.body.text).toContain("Đặng Thị Hương");
  });
});
