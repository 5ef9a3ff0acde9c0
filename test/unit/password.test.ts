import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  createPasswordHasher,
  parsePasswordHash,
  PBKDF2_MAX_ITERATIONS,
  type PasswordHasher,
} from "../../src/lib/crypto/password.ts";

const PEPPER = "test-pepper-0123456789abcdef0123456789";
const PASSWORD = "correct horse battery staple";

let hasher: PasswordHasher;
let stored: string;

beforeAll(async () => {
  hasher = await createPasswordHasher({ pepper: PEPPER, pepperId: "v1" });
  stored = await hasher.hash(PASSWORD);
});

function replaceSegment(hash: string, index: number, value: string): string {
  const segments = hash.split("$");
  segments[index] = value;
  return segments.join("$");
}

function flipFirstChar(text: string): string {
  return (text.startsWith("A") ? "B" : "A") + text.slice(1);
}

describe("hashing and verifying", () => {
  it("verifies the password it hashed, without asking for a rehash", async () => {
    expect(await hasher.verify(PASSWORD, stored)).toEqual({ ok: true, needsRehash: false });
  });

  it("refuses a wrong password", async () => {
    expect(await hasher.verify("correct horse battery stapler", stored)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it("salts: the same password hashes to a different string each time", async () => {
    const again = await hasher.hash(PASSWORD);
    expect(again).not.toBe(stored);
    expect((await hasher.verify(PASSWORD, again)).ok).toBe(true);
  });

  it("writes the self-describing format with a 16-byte salt and a 64-byte hash", () => {
    expect(stored).toMatch(/^\$pbkdf2-sha512\$i=100000,p=v1,n=nfkc\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    const parsed = parsePasswordHash(stored);
    expect(parsed?.iterations).toBe(100_000);
    expect(parsed?.pepperId).toBe("v1");
    expect(parsed?.salt.byteLength).toBe(16);
    expect(parsed?.hash.byteLength).toBe(64);
  });

  it("normalises to NFC: a decomposed é verifies against a password stored with a precomposed é", async () => {
    const precomposed = "caf\u00e9-pass";
    const decomposed = "cafe\u0301-pass";
    expect(decomposed).not.toBe(precomposed);
    const storedPrecomposed = await hasher.hash(precomposed);
    expect((await hasher.verify(decomposed, storedPrecomposed)).ok).toBe(true);
  });

  it("normalises to NFKC (NIST): ligatures and full-width letters verify as their plain spelling", async () => {
    const plain = await hasher.hash("fire-password");
    expect((await hasher.verify("\ufb01re-password", plain)).ok).toBe(true);
    expect((await hasher.verify("\uff46ire-password", plain)).ok).toBe(true);
  });

  it("still verifies a hash from before NFKC (no n= mark) and asks for a rehash into the new form", async () => {
    // For an ASCII password NFC and NFKC agree, so the older form is the new hash without its mark.
    const older = stored.replace(",n=nfkc", "");
    expect(parsePasswordHash(older)?.form).toBe("NFC");
    expect(await hasher.verify(PASSWORD, older)).toEqual({ ok: true, needsRehash: true });
    expect(await hasher.verify("wrong", older)).toEqual({ ok: false, needsRehash: false });
  });

  it("burn performs a derivation and resolves", async () => {
    await expect(hasher.burn(PASSWORD)).resolves.toBeUndefined();
  });
});

describe("pepper", () => {
  it("refuses the right password under a different pepper with the same pepper id", async () => {
    const other = await createPasswordHasher({ pepper: "another-pepper-entirely-0123456789", pepperId: "v1" });
    expect(await other.verify(PASSWORD, stored)).toEqual({ ok: false, needsRehash: false });
  });

  it("refuses a hash made under another pepper id (the old pepper is not known)", async () => {
    const rotated = await createPasswordHasher({ pepper: PEPPER, pepperId: "v2" });
    expect(await rotated.verify(PASSWORD, stored)).toEqual({ ok: false, needsRehash: false });
  });
});

describe("tampering", () => {
  it("refuses a tampered hash", async () => {
    const segments = stored.split("$");
    const tampered = replaceSegment(stored, 4, flipFirstChar(segments[4] ?? ""));
    expect(parsePasswordHash(tampered)).not.toBeNull();
    expect((await hasher.verify(PASSWORD, tampered)).ok).toBe(false);
  });

  it("refuses a tampered salt", async () => {
    const segments = stored.split("$");
    const tampered = replaceSegment(stored, 3, flipFirstChar(segments[3] ?? ""));
    expect(parsePasswordHash(tampered)).not.toBeNull();
    expect((await hasher.verify(PASSWORD, tampered)).ok).toBe(false);
  });

  it("refuses a hash whose iteration count was lowered", async () => {
    const tampered = stored.replace("i=100000", "i=50000");
    expect(parsePasswordHash(tampered)).not.toBeNull();
    expect((await hasher.verify(PASSWORD, tampered)).ok).toBe(false);
  });
});

describe("malformed stored strings are refused without throwing", () => {
  const cases: Array<[string, (valid: string) => unknown]> = [
    ["empty string", () => ""],
    ["plain text", () => "hunter2"],
    ["null", () => null],
    ["undefined", () => undefined],
    ["a number", () => 42],
    ["another scheme", (valid) => valid.replace("pbkdf2-sha512", "pbkdf2-sha256")],
    ["missing leading $", (valid) => valid.slice(1)],
    ["iterations zero", (valid) => valid.replace("i=100000", "i=0")],
    ["iterations with a leading zero", (valid) => valid.replace("i=100000", "i=0100000")],
    ["iterations above the Workers maximum", (valid) => valid.replace("i=100000", "i=100001")],
    ["iterations below the minimum", (valid) => valid.replace("i=100000", "i=9999")],
    ["iterations not a number", (valid) => valid.replace("i=100000", "i=lots")],
    ["empty pepper id", (valid) => valid.replace(",p=v1", ",p=")],
    ["parameters reordered", (valid) => valid.replace("i=100000,p=v1", "p=v1,i=100000")],
    ["salt with a non-base64url character", (valid) => replaceSegment(valid, 3, "+".repeat(22))],
    ["salt too short", (valid) => replaceSegment(valid, 3, "AAAA")],
    ["hash truncated", (valid) => valid.slice(0, -4)],
    ["hash with padding", (valid) => `${valid}==`],
    ["non-canonical base64url in the salt", (valid) => replaceSegment(valid, 3, `${"A".repeat(21)}B`)],
    ["an extra segment", (valid) => `${valid}$AAAA`],
    ["a trailing newline", (valid) => `${valid}\n`],
    ["surrounding whitespace", (valid) => ` ${valid} `],
  ];

  it.each(cases)("%s", async (_name, build) => {
    const malformed = build(stored) as string;
    expect(parsePasswordHash(malformed)).toBeNull();
    await expect(hasher.verify(PASSWORD, malformed)).resolves.toEqual({ ok: false, needsRehash: false });
  });
});

describe("iterations", () => {
  it("asks for a rehash when the stored iteration count differs from the current one", async () => {
    const older = await createPasswordHasher({ pepper: PEPPER, pepperId: "v1", iterations: 20_000 });
    const storedOlder = await older.hash(PASSWORD);
    expect(storedOlder).toContain("$i=20000,p=v1,n=nfkc$");
    expect(await hasher.verify(PASSWORD, storedOlder)).toEqual({ ok: true, needsRehash: true });
  });

  it("never asks for a rehash on a wrong password", async () => {
    const older = await createPasswordHasher({ pepper: PEPPER, pepperId: "v1", iterations: 20_000 });
    const storedOlder = await older.hash(PASSWORD);
    expect(await hasher.verify("wrong", storedOlder)).toEqual({ ok: false, needsRehash: false });
  });

  it.each([100_001, 1_000_000, 9_999, 0, -1, 50_000.5, Number.NaN])(
    "refuses to construct with %s iterations",
    async (iterations) => {
      await expect(createPasswordHasher({ pepper: PEPPER, pepperId: "v1", iterations })).rejects.toThrow(
        /iterations/,
      );
    },
  );

  it("production fidelity: the default stays within what production Workers accept", () => {
    // Local workerd does not enforce Cloudflare's PBKDF2 cap, so only this test catches a raise.
    expect(PBKDF2_MAX_ITERATIONS).toBeLessThanOrEqual(100_000);
    expect(stored.split("$")[2]).toBe("i=100000,p=v1,n=nfkc");
  });

  it.each(["", "has$dollar", "has,comma", "x".repeat(65)])("refuses pepper id %j", async (pepperId) => {
    await expect(createPasswordHasher({ pepper: PEPPER, pepperId })).rejects.toThrow(/pepper id/);
  });

  it("refuses an empty pepper", async () => {
    await expect(createPasswordHasher({ pepper: "", pepperId: "v1" })).rejects.toThrow(/pepper/);
  });
});

describe("pending registrations: one salt per address, one derivation for all", () => {
  it("derives the same salt for one address and a different one for another", async () => {
    const a1 = parsePasswordHash(await hasher.hash("first password", { saltFor: "ana@example.test" }))!;
    const a2 = parsePasswordHash(await hasher.hash("second password", { saltFor: "ana@example.test" }))!;
    const b = parsePasswordHash(await hasher.hash("first password", { saltFor: "bob@example.test" }))!;
    expect(a1.salt).toEqual(a2.salt);
    expect(b.salt).not.toEqual(a1.salt);
  });

  it("finds which of several hashes a password matches, or -1", async () => {
    const hashes = await Promise.all(["attacker choice", "owner choice", "third one"].map((p) => hasher.hash(p, { saltFor: "x@example.test" })));
    expect(await hasher.matchAny("owner choice", hashes)).toBe(1);
    expect(await hasher.matchAny("third one", hashes)).toBe(2);
    expect(await hasher.matchAny("nobody's", hashes)).toBe(-1);
    expect(await hasher.matchAny("anything", [])).toBe(-1);
  });

  it("costs one derivation for hashes that share a salt, however many there are", async () => {
    const hashes = await Promise.all(["a password", "b password", "c password"].map((p) => hasher.hash(p, { saltFor: "y@example.test" })));
    const original = crypto.subtle.deriveBits.bind(crypto.subtle);
    let derivations = 0;
    const spy = vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((...args) => (derivations++, original(...args)));
    try {
      await hasher.matchAny("c password", hashes);
      expect(derivations).toBe(1);
      derivations = 0;
      await hasher.matchAny("c password", []);
      expect(derivations).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});
