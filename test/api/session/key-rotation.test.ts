import { describe, expect, it } from "vitest";
import { decodeProtectedHeader } from "jose";
import { generateSigningKeyJwk } from "../../../src/lib/crypto/jwt.ts";
import { createTestService, TestClock } from "../../support/service.ts";
import { createConfirmedUser, login } from "../../support/flows.ts";

// README, "Rotating the signing key": append the new key (published, verifies, does not sign), wait
// the JWKS cache lifetime, move it first (signs), wait the access-token lifetime, remove the old one.
describe("signing-key rotation, end to end", () => {
  it("keeps every token valid until its key is removed, and publishes each key before it signs", async () => {
    const clock = new TestClock();
    const [oldKey, newKey] = await Promise.all([generateSigningKeyJwk("old-key"), generateSigningKeyJwk("new-key")]);
    const first = await createTestService({ clock, settings: { JWT_SIGNING_KEYS: JSON.stringify([oldKey]) } });
    const on = (keys: object[]) => createTestService({ clock, settings: { DB_URL: first.settings.DB_URL!, JWT_SIGNING_KEYS: JSON.stringify(keys) } });
    const kids = async (s: typeof first) => ((await (await s.request("/.well-known/jwks.json")).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const me = (s: typeof first, token: string) => s.request("/v1/me", { token }).then((r) => r.status);

    const { email, session } = await createConfirmedUser(first, "rotation");
    const byOld = session.access_token;
    expect(decodeProtectedHeader(byOld).kid).toBe("old-key");
    const jwks = await first.request("/.well-known/jwks.json");
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=300");

    // 1. Appended: published and verifying, not yet signing.
    const appended = await on([oldKey, newKey]);
    expect(await kids(appended)).toEqual(["old-key", "new-key"]);
    expect(decodeProtectedHeader((await login(appended, email)).access_token).kid).toBe("old-key");
    expect(await me(appended, byOld)).toBe(200);

    // 2. After the JWKS cache lifetime, moved first: it signs; the old one still verifies.
    clock.advance(300_000);
    const moved = await on([newKey, oldKey]);
    const byNew = (await login(moved, email)).access_token;
    expect(decodeProtectedHeader(byNew).kid).toBe("new-key");
    expect(await me(moved, byNew)).toBe(200);
    const lateByOld = (await login(appended, email)).access_token; // an isolate not yet on the new order
    expect(await me(moved, lateByOld)).toBe(200);

    // 3. After the access-token lifetime, removed: tokens it signed are refused, the new key's live on.
    clock.advance(first.deps.config.accessTokenTtl * 1000);
    const freshByNew = (await login(moved, email)).access_token;
    const removed = await on([newKey]);
    expect(await kids(removed)).toEqual(["new-key"]);
    expect(await me(removed, lateByOld)).toBe(401);
    expect(await me(removed, freshByNew)).toBe(200);
  });
});
