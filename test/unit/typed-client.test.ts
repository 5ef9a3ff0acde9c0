import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../../src/app.ts";

// The app's type gives hono/client typed calls: paths, bodies and answers are checked by the
// compiler (npm run typecheck), so a renamed field or path breaks this file, not a client at run time.
describe("hc<AppType>", () => {
  it("types paths, request bodies and answers", () => {
    const client = hc<AppType>("https://auth.example.test", { fetch: () => Promise.resolve(new Response(null, { status: 599 })) });
    const login = () => client.v1.login.$post({ json: { email: "ana@example.com", password: "correct horse battery" } });
    type LoginAnswer = Awaited<ReturnType<Awaited<ReturnType<typeof login>>["json"]>>;
    expectTypeOf<Extract<LoginAnswer, { session: unknown }>["session"]["access_token"]>().toEqualTypeOf<string>();
    // @ts-expect-error: the login body needs a password
    void (() => client.v1.login.$post({ json: { email: "ana@example.com" } }));
    const refresh = () => client.v1.token.refresh.$post({ json: { refresh_token: "rt" } });
    expectTypeOf<Awaited<ReturnType<Awaited<ReturnType<typeof refresh>>["json"]>>>().toHaveProperty("session");
    expect(typeof client.admin.v1.users[":id"].$get).toBe("function");
  });
});
