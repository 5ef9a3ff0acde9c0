import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { emailTokens, registrations, users } from "../../../src/db/schema.ts";
import { MAIL_MIN_INTERVAL_MS } from "../../../src/limits/mail-budget.ts";
import { encodeBase64Url } from "../../../src/lib/crypto/encoding.ts";
import { createTestService, TestClock, type TestService } from "../../support/service.ts";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { errorCode } from "../../support/flows.ts";

// An attacker registers the victim's address first, with a password of their own, and waits for the
// owner to confirm. Confirming needs the mailed token *and* proof of which registration the
// confirmer made, so the attacker's password never becomes the account's.

const ATTACKER = "attacker's own password";
const OWNER = "the owner's own password";
const clock = new TestClock();
let t: TestService;
beforeAll(async () => {
  t = await createTestService({ clock });
});

async function register(email: string, password: string, extra: Record<string, unknown> = {}) {
  // Past the mail budget's one-a-minute interval, so every registration gets its own mail.
  clock.advance(MAIL_MIN_INTERVAL_MS);
  expect((await t.post("/v1/register", { email, password, ...extra })).status).toBe(202);
  await t.settle();
  return tokenFrom((await mailsTo(email)).at(-1));
}

async function pkcePair() {
  const verifier = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: encodeBase64Url(new Uint8Array(digest)) };
}

describe("pre-hijack: an unconfirmed registration cannot be taken over", () => {
  it("activates the owner's password when the owner confirms the newest link with it; the attacker's gets 401", async () => {
    const email = uniqueEmail("victim");
    await register(email, ATTACKER);
    const ownersLink = await register(email, OWNER);
    expect(await t.deps.db.select().from(users).where(eq(users.email, email))).toEqual([]);

    const confirmed = await t.post("/v1/confirm", { token: ownersLink, password: OWNER });
    expect(confirmed.status).toBe(200);
    expect((await t.post("/v1/login", { email, password: ATTACKER })).status).toBe(401);
    expect((await t.post("/v1/login", { email, password: OWNER })).status).toBe(200);
    // The other registrations are discarded with the confirmation.
    expect(await t.deps.db.select().from(registrations).where(eq(registrations.email, email))).toEqual([]);
  });

  it("lets the owner confirm with the attacker's earlier link too: the token proves the mailbox, the password the registration", async () => {
    const email = uniqueEmail("victim");
    const attackersLink = await register(email, ATTACKER);
    await register(email, OWNER);
    expect((await t.post("/v1/confirm", { token: attackersLink, password: OWNER })).status).toBe(200);
    expect((await t.post("/v1/login", { email, password: OWNER })).status).toBe(200);
    expect((await t.post("/v1/login", { email, password: ATTACKER })).status).toBe(401);
  });

  it("activates nothing when an unsolicited link is used with the token alone or with another password", async () => {
    const email = uniqueEmail("unsolicited");
    const link = await register(email, ATTACKER);

    const alone = await t.post("/v1/confirm", { token: link });
    expect(alone.status).toBe(400);
    expect(await errorCode(alone)).toBe("proof_required");

    const wrong = await t.post("/v1/confirm", { token: link, password: OWNER });
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe("invalid_credentials");

    expect(await t.deps.db.select().from(users).where(eq(users.email, email))).toEqual([]);
    expect((await t.post("/v1/login", { email, password: ATTACKER })).status).toBe(403);
    // The owner can still register and confirm with a password of their own.
    const ownersLink = await register(email, OWNER);
    expect((await t.post("/v1/confirm", { token: ownersLink, password: OWNER })).status).toBe(200);
  });

  it("leaves the token usable after a wrong proof, and spends it after 5", async () => {
    const email = uniqueEmail("worn");
    const link = await register(email, OWNER);
    for (let i = 0; i < 4; i++) expect((await t.post("/v1/confirm", { token: link, password: `guess number ${i}` })).status).toBe(401);
    expect((await t.post("/v1/confirm", { token: link, password: OWNER })).status).toBe(200);

    const other = uniqueEmail("worn-out");
    const otherLink = await register(other, OWNER);
    for (let i = 0; i < 5; i++) await t.post("/v1/confirm", { token: otherLink, password: `guess number ${i}` });
    expect(await errorCode(await t.post("/v1/confirm", { token: otherLink, password: OWNER }))).toBe("invalid_token");
    const [row] = await t.deps.db.select().from(emailTokens).where(eq(emailTokens.email, other));
    expect(row).toMatchObject({ failedAttempts: 5 });
    expect(row!.usedAt).not.toBeNull();
  });

  it("counts wrong proofs toward the login guard of the address", async () => {
    const email = uniqueEmail("guarded");
    const link = await register(email, OWNER);
    for (let i = 0; i < 4; i++) await t.post("/v1/confirm", { token: link, password: `guess number ${i}` });
    const again = await register(email, OWNER);
    await t.post("/v1/confirm", { token: again, password: "one more guess" });
    // Five failures from this client: its login is locked even with the right password.
    expect((await t.post("/v1/confirm", { token: again, password: OWNER })).status).toBe(200);
    expect((await t.post("/v1/login", { email, password: OWNER })).status).toBe(429);
  });

  it("confirms with the PKCE verifier of the registration's code_challenge (same browser, no password typed)", async () => {
    const email = uniqueEmail("pkce");
    const attacker = await pkcePair();
    const owner = await pkcePair();
    await register(email, ATTACKER, { code_challenge: attacker.challenge });
    const link = await register(email, OWNER, { code_challenge: owner.challenge });

    const stranger = await pkcePair();
    expect(await errorCode(await t.post("/v1/confirm", { token: link, code_verifier: stranger.verifier }))).toBe("invalid_credentials");
    const confirmed = await t.post("/v1/confirm", { token: link, code_verifier: owner.verifier });
    expect(confirmed.status).toBe(200);
    expect((await t.post("/v1/login", { email, password: OWNER })).status).toBe(200);
    expect((await t.post("/v1/login", { email, password: ATTACKER })).status).toBe(401);
  });

  it("refuses a malformed code_challenge or code_verifier with 400 validation_failed", async () => {
    const bad = await t.post("/v1/register", { email: uniqueEmail("bad"), password: OWNER, code_challenge: "plain-not-s256" });
    expect(await errorCode(bad)).toBe("validation_failed");
    const link = await register(uniqueEmail("bad-verifier"), OWNER);
    expect(await errorCode(await t.post("/v1/confirm", { token: link, code_verifier: "short" }))).toBe("validation_failed");
  });

  it("keeps the 3 newest registrations of an address; a newer one does not void an older one's chance", async () => {
    const email = uniqueEmail("crowd");
    const first = await register(email, "registration number 1");
    await register(email, "registration number 2");
    await register(email, "registration number 3");
    expect(await t.deps.db.select().from(registrations).where(eq(registrations.email, email))).toHaveLength(3);
    await register(email, "registration number 4");
    expect(await t.deps.db.select().from(registrations).where(eq(registrations.email, email))).toHaveLength(3);
    // The oldest was pushed out; the second still confirms, through the very first link.
    expect((await t.post("/v1/confirm", { token: first, password: "registration number 1" })).status).toBe(401);
    expect((await t.post("/v1/confirm", { token: first, password: "registration number 2" })).status).toBe(200);
  });

  it("lets pending registrations expire with CONFIRM_TOKEN_TTL", async () => {
    const email = uniqueEmail("expired");
    const link = await register(email, OWNER);
    clock.advance(t.deps.config.confirmTokenTtl * 1000 + 1);
    expect(await errorCode(await t.post("/v1/confirm", { token: link, password: OWNER }))).toBe("invalid_token");
    expect((await t.post("/v1/login", { email, password: OWNER })).status).toBe(401);
  });

  it("costs one password derivation per confirm attempt, whichever proof is given", async () => {
    const derivations: string[] = [];
    const real = t.deps.passwords;
    const counted = await createTestService({
      clock,
      deps: {
        passwords: {
          hash: (p, o) => (derivations.push("hash"), real.hash(p, o)),
          matchAny: (p, s) => (derivations.push("matchAny"), real.matchAny(p, s)),
          verify: (p, s) => (derivations.push("verify"), real.verify(p, s)),
          burn: (p) => (derivations.push("burn"), real.burn(p)),
        },
      },
    });
    const email = uniqueEmail("cost");
    const { challenge } = await pkcePair();
    for (const password of ["one of three", "two of three"]) {
      clock.advance(MAIL_MIN_INTERVAL_MS);
      await counted.post("/v1/register", { email, password, code_challenge: challenge });
    }
    await counted.settle();
    const link = tokenFrom((await mailsTo(email)).at(-1));
    for (const body of [{ password: "nobody's" }, { code_verifier: "x".repeat(43) }, { password: "two of three" }]) {
      derivations.length = 0;
      await counted.post("/v1/confirm", { token: link, ...body });
      expect(derivations).toHaveLength(1);
    }
  });
});
