import { describe, expect, it } from "vitest";
import { once } from "../../src/lib/once.ts";

describe("once", () => {
  it("makes nothing until asked, then keeps the first result for every later caller", async () => {
    let made = 0;
    const key = once(async () => ++made);
    expect(made).toBe(0);
    expect(await key()).toBe(1);
    expect(await Promise.all([key(), key()])).toEqual([1, 1]);
    expect(made).toBe(1);
  });

  // No pending promise is handed from one caller to another (in workerd, from one request to
  // another): callers before the first result make their own, and all get the first one kept.
  it("lets callers before the first result make their own, and gives each the first result that arrived", async () => {
    const releases: Array<() => void> = [];
    let made = 0;
    const key = once(
      () =>
        new Promise<number>((resolve) => {
          const n = ++made;
          releases.push(() => resolve(n));
        }),
    );
    const first = key();
    const second = key();
    expect(made).toBe(2);
    releases[1]!();
    expect(await second).toBe(2);
    releases[0]!();
    expect(await first).toBe(2);
    expect(await key()).toBe(2);
    expect(made).toBe(2);
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
