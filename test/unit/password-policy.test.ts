import { describe, expect, it } from "vitest";
import zxcvbnPasswords from "@zxcvbn-ts/language-common/src/passwords.json";
import { checkPasswordPolicy, type PolicyContext } from "../../src/auth/password-policy.ts";
import { AppError } from "../../src/lib/errors.ts";
import { checkPwnedPassword, type FetchLike } from "../../src/lib/pwned.ts";

const ctx: PolicyContext = { minLength: 8, appName: "Acme", email: "ana.silva+news@example.test" };

function refusal(password: string, context: PolicyContext = ctx): string | null {
  try {
    checkPasswordPolicy(password, context);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("weak_password");
    expect((err as AppError).status).toBe(400);
    return (err as AppError).message;
  }
}

describe("checkPasswordPolicy", () => {
  it.each(["password123", "Password123", "PASSWORD123", "qwerty123", "iloveyou", "1q2w3e4r5t", "baseball", "michelle"])(
    "refuses the common password %s",
    (password) => {
      expect(refusal(password)).toMatch(/too common/);
    },
  );

  // The list is kept as a Golomb-coded set (tools/generate-common-passwords.ts): no listed password
  // may slip through, and only about 1 in 16,384 others may be refused with them.
  it("refuses every password of the source list that is long enough to be accepted otherwise", () => {
    const listed = (zxcvbnPasswords as string[]).map((p) => p.normalize("NFC")).filter((p) => [...p].length >= 8);
    expect(listed.length).toBeGreaterThan(17_000);
    const accepted = listed.filter((p) => refusal(p, { minLength: 8, appName: "Acme" }) === null);
    expect(accepted).toEqual([]);
  });

  it("accepts all but about 1 in 16,384 passwords that are not on the list", () => {
    const others = Array.from({ length: 50_000 }, (_, i) => `not on any list ${i * 7}`);
    const refused = others.filter((p) => refusal(p, { minLength: 8, appName: "Acme" }) !== null);
    expect(refused.length).toBeLessThanOrEqual(10);
  });

  it("accepts long passphrases that are not on the list", () => {
    expect(refusal("correct horse battery")).toBeNull();
    expect(refusal("Tr0ub4dor&3 but longer")).toBeNull();
  });

  it("refuses passwords shorter than the minimum, counted in characters", () => {
    expect(refusal("short")).toMatch(/at least 8/);
    expect(refusal("d\u00e9j\u00e0 vu!", { ...ctx, minLength: 9 })).toMatch(/at least 9/);
    expect(refusal("\u{1F512}".repeat(7) + "x")).toBeNull();
  });

  it("refuses a password that contains the email's local part, in any case", () => {
    expect(refusal("my name is ANA.SILVA+NEWS ok")).toMatch(/email address/);
    expect(refusal("xx-Ana.Silva-2026")).toMatch(/email address/);
  });

  it("ignores local parts shorter than 3 characters", () => {
    expect(refusal("jo-is-writing-here", { ...ctx, email: "jo@example.test" })).toBeNull();
    expect(refusal("bob-is-writing-here", { ...ctx, email: "bob@example.test" })).toMatch(/email address/);
  });

  it("refuses a password that contains the app name, in any case", () => {
    expect(refusal("my acme login 2026")).toMatch(/Acme/);
    expect(refusal("ACMEACMEACME")).toMatch(/Acme/);
  });

  it("works without an email (checks that need no account)", () => {
    expect(refusal("ana.silva and more", { minLength: 8, appName: "Acme" })).toBeNull();
  });
});

describe("checkPwnedPassword (k-anonymity range query)", () => {
  // SHA-1("password123") = CBFDAC6008F9CAB4083784CBD1874F76618D2A97
  const PREFIX = "CBFDA";
  const SUFFIX = "C6008F9CAB4083784CBD1874F76618D2A97";

  function standIn(body: string, status = 200) {
    const calls: Array<{ url: string; headers: Headers; signal: AbortSignal | null | undefined }> = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, headers: new Headers(init?.headers), signal: init?.signal });
      return new Response(body, { status });
    };
    return { fetch, calls };
  }
  const options = (fetch: FetchLike) => ({ baseUrl: "https://pwned.example.test/", timeoutMs: 1500, fetch });

  it("sends only the first 5 hex characters of the SHA-1, with Add-Padding", async () => {
    const api = standIn(`${SUFFIX}:42\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n`);
    expect(await checkPwnedPassword("password123", options(api.fetch))).toEqual({ checked: true, breached: true });
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]!.url).toBe(`https://pwned.example.test/range/${PREFIX}`);
    expect(api.calls[0]!.url).not.toContain(SUFFIX);
    expect(api.calls[0]!.headers.get("add-padding")).toBe("true");
    expect(api.calls[0]!.signal).toBeInstanceOf(AbortSignal);
  });

  it("does not count padding rows (count 0) as breaches", async () => {
    const api = standIn(`${SUFFIX}:0\r\n0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n`);
    expect(await checkPwnedPassword("password123", options(api.fetch))).toEqual({ checked: true, breached: false });
  });

  it("fails open on an error status, a network error or a timeout", async () => {
    expect(await checkPwnedPassword("password123", options(standIn("", 503).fetch))).toEqual({ checked: false, reason: "status 503" });
    const refused: FetchLike = async () => {
      throw new TypeError("connection refused");
    };
    expect(await checkPwnedPassword("password123", options(refused))).toEqual({ checked: false, reason: "TypeError" });
    // A service that never answers: the request is abandoned after timeoutMs.
    const silent: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    const verdict = await checkPwnedPassword("password123", { ...options(silent), timeoutMs: 20 });
    expect(verdict).toEqual({ checked: false, reason: "TimeoutError" });
  });
});
