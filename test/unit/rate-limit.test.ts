import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { ipBudgetKeys, ipCounterKey } from "../../src/limits/ip-budget.ts";
import { canonicalMailbox } from "../../src/limits/mail-budget.ts";
import { lockoutMs } from "../../src/limits/login-guard.ts";

describe("login lock-out schedule", () => {
  const policy = { threshold: 5, baseMs: 30_000, maxMs: 900_000 };

  it("locks from the 5th consecutive failure, doubling from 30 s up to 15 min", () => {
    const schedule = Array.from({ length: 12 }, (_, i) => lockoutMs(i + 1, policy) / 1000);
    expect(schedule).toEqual([0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it("never locks for longer than the cap, however many failures", () => {
    expect(lockoutMs(100, policy)).toBe(900_000);
    expect(lockoutMs(10_000, policy)).toBe(900_000);
  });
});

describe("per-IP counter key", () => {
  it("counts an IPv4 address as itself, also when written IPv4-mapped", () => {
    expect(ipCounterKey("203.0.113.7")).toBe("ip:203.0.113.7");
    expect(ipCounterKey("::ffff:203.0.113.7")).toBe("ip:203.0.113.7");
  });

  it("counts IPv6 addresses by their /64, however they are written", () => {
    const key = ipCounterKey("2001:db8:0:0:1:2:3:4");
    expect(key).toBe("ip:2001:db8:0:0::/64");
    expect(ipCounterKey("2001:db8::9")).toBe(key);
    expect(ipCounterKey("2001:0DB8:0000:0000:ffff:ffff:ffff:ffff")).toBe(key);
    expect(ipCounterKey("2001:db8:0:1::1")).not.toBe(key);
  });

  it("puts requests without a client IP into one shared bucket", () => {
    expect(ipCounterKey(null)).toBe("ip:unknown");
  });
});

describe("abuse settings", () => {
  const base = {
    PUBLIC_URL: "https://auth.example.test",
    DB_URL: "http://127.0.0.1:1/",
    JWT_SIGNING_KEYS: "[]",
    PASSWORD_PEPPER: "p".repeat(32),
    ENVIRONMENT: "test",
  };

  it("has the documented defaults", () => {
    expect(parseConfig(base)).toMatchObject({
      loginLockoutThreshold: 5,
      loginLockoutBaseSeconds: 30,
      loginLockoutMaxSeconds: 900,
      mailPerAddressPerHour: 5,
      pwnedPasswordsCheck: false,
      pwnedPasswordsUrl: "https://api.pwnedpasswords.com",
      pwnedPasswordsTimeoutMs: 1500,
    });
  });

  it("names the setting that is wrong", () => {
    expect(() => parseConfig({ ...base, LOGIN_LOCKOUT_THRESHOLD: "101" })).toThrow(/LOGIN_LOCKOUT_THRESHOLD/);
    expect(() => parseConfig({ ...base, PWNED_PASSWORDS_CHECK: "yes" })).toThrow(/PWNED_PASSWORDS_CHECK/);
  });
});

describe("IPv6 budgets", () => {
  it("spends an IPv6 client's requests from its /64 and from its /48", () => {
    expect(ipBudgetKeys("2001:db8:1:2:3:4:5:6")).toEqual(["ip:2001:db8:1:2::/64", "ip:2001:db8:1::/48"]);
    // Another /64 of the same site shares the /48 budget.
    expect(ipBudgetKeys("2001:db8:1:ffff::9")[1]).toBe("ip:2001:db8:1::/48");
    expect(ipBudgetKeys("203.0.113.7")).toEqual(["ip:203.0.113.7"]);
  });
});

describe("canonical mailbox for mail budgets", () => {
  it.each([
    ["Ana+news@Example.test", "ana@example.test"],
    ["ana+1+2@example.test", "ana@example.test"],
    ["a.n.a@gmail.com", "ana@gmail.com"],
    ["A.na+x@GoogleMail.com", "ana@gmail.com"],
    ["a.n.a@example.test", "a.n.a@example.test"],
    ["+tag@example.test", "+tag@example.test"],
  ])("counts %s as %s", (address, mailbox) => {
    expect(canonicalMailbox(address)).toBe(mailbox);
  });
});
