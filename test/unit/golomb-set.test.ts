import { describe, expect, it } from "vitest";
import { encodeGolombSet, hash53, openGolombSet } from "../../src/lib/golomb-set.ts";

const members = Array.from({ length: 2000 }, (_, i) => `member-${i}-${(i * 7919) % 1009}`);

describe("Golomb-coded set", () => {
  it("finds every member it was built from", () => {
    const set = openGolombSet(encodeGolombSet(members, 8));
    expect(members.filter((m) => !set.has(m))).toEqual([]);
  });

  it("lets about 2^-bits of other strings through, and fewer with more bits", () => {
    const strangers = Array.from({ length: 200_000 }, (_, i) => `stranger ${i}`);
    const rate = (bits: number) => {
      const set = openGolombSet(encodeGolombSet(members, bits));
      return strangers.filter((s) => set.has(s)).length / strangers.length;
    };
    // Expected 1/256 ≈ 0.0039 and 1/4096 ≈ 0.00024.
    expect(rate(8)).toBeGreaterThan(0.002);
    expect(rate(8)).toBeLessThan(0.006);
    expect(rate(12)).toBeLessThan(0.0005);
  });

  it("stores about bits + 1.6 bits per member", () => {
    const data = encodeGolombSet(members, 10);
    expect(data.bytes.length * 8).toBeGreaterThan(members.length * 11);
    expect(data.bytes.length * 8).toBeLessThan(members.length * 12);
  });

  it("hashes to the same 53-bit values in every runtime (the generator runs in Node)", () => {
    expect([hash53(""), hash53("password"), hash53("é")]).toEqual([3338908027751811, 4659945106676310, 8722994053064405]);
  });
});
