import { describe, expect, it } from "vitest";
import { createPasswordHasher, parsePasswordHash } from "../../src/lib/crypto/password.ts";

// The scans of the sources (no iteration count above the cap, no process.env) are a lint step:
// npm run lint (tools/lint/source-rules.ts).
describe("production limits that local workerd does not enforce", () => {
  it("never derives a password hash with more than 100,000 PBKDF2 iterations", async () => {
    const hasher = await createPasswordHasher({ pepper: "p".repeat(32), pepperId: "p1" });
    expect(parsePasswordHash(await hasher.hash("some password"))!.iterations).toBeLessThanOrEqual(100_000);
    await expect(createPasswordHasher({ pepper: "p".repeat(32), pepperId: "p1", iterations: 100_001 })).rejects.toThrow();
  });
});
