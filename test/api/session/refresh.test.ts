import { beforeAll, describe, expect, it } from "vitest";
import { REFRESH_RETRY_GRACE_SECONDS } from "../../../src/auth/sessions.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { createConfirmedUser, type SessionBody } from "../../support/flows.ts";

const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

async function refresh(token: string) {
  const res = await t.post("/v1/token/refresh", { refresh_token: token });
  return { status: res.status, session: res.status === 200 ? ((await res.json()) as { session: SessionBody }).session : null };
}

describe("strict rotation with a retry grace", () => {
  it("answers a retry of a just-rotated token with the same successor, and the session goes on", async () => {
    const { session } = await createConfirmedUser(t, "retry");
    const first = await refresh(session.refresh_token);
    expect(first.status).toBe(200);
    // The response was lost: the client tries the same token again.
    clock.advance(REFRESH_RETRY_GRACE_SECONDS * 1000 - 1000);
    const retried = await refresh(session.refresh_token);
    expect(retried.status).toBe(200);
    expect(retried.session!.refresh_token).toBe(first.session!.refresh_token);
    expect((await refresh(first.session!.refresh_token)).status).toBe(200);
  });

  it("gives two simultaneous refreshes of one token (two tabs) the one successor", async () => {
    const { session } = await createConfirmedUser(t, "tabs");
    const answers = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token), refresh(session.refresh_token)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.session!.refresh_token)).size).toBe(1);
    expect((await refresh(answers[0]!.session!.refresh_token)).status).toBe(200);
  });

  it("treats a rotated token after the grace as stolen: 401, and the whole session ends", async () => {
    const { session } = await createConfirmedUser(t, "late-retry");
    const first = await refresh(session.refresh_token);
    clock.advance(REFRESH_RETRY_GRACE_SECONDS * 1000 + 1);
    expect((await refresh(session.refresh_token)).status).toBe(401);
    expect((await refresh(first.session!.refresh_token)).status).toBe(401);
  });

  it("treats a rotated token whose successor was already used as stolen, even within the grace", async () => {
    const { session } = await createConfirmedUser(t, "used-successor");
    const first = await refresh(session.refresh_token);
    const second = await refresh(first.session!.refresh_token);
    expect(second.status).toBe(200);
    expect((await refresh(session.refresh_token)).status).toBe(401);
    expect((await refresh(second.session!.refresh_token)).status).toBe(401);
  });
});
