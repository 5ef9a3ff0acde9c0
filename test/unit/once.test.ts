import { describe, expect, it } from "vitest";
import { once } from "../../src/lib/once.ts";

describe("once", () => {
  it("makes nothing until asked, then shares one result between every caller", async () => {
    let made = 0;
    const key = once(async () => ++made);
    expect(made).toBe(0);
    expect(await Promise.all([key(), key(), key()])).toEqual([1, 1, 1]);
    expect(made).toBe(1);
  });

  it("forgets a failure, so the next call tries again", async () => {
    let calls = 0;
    const key = once(async () => {
      if (++calls === 1) throw new Error("transient");
      return "ready";
    });
    await expect(key()).rejects.toThrow("transient");
    expect(await key()).toBe("ready");
  });
});
