import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";

const base = {
  DB_URL: "http://127.0.0.1:1/",
  JWT_SIGNING_KEYS: "[]",
  PASSWORD_PEPPER: "p".repeat(32),
  ENVIRONMENT: "development",
};

function refusal(settings: Record<string, string>): ConfigError | null {
  try {
    parseConfig(settings);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe("ENVIRONMENT=development", () => {
  describe.each([
    "http://127.0.0.1:8787",
    "http://127.0.0.1",
    "http://127.10.0.3:9000",
    "http://localhost:8787",
    "http://LOCALHOST",
    "http://[::1]:8787",
    "https://localhost/",
  ])("with PUBLIC_URL %s", (publicUrl) => {
    it("starts: the address only reaches this machine", () => {
      expect(refusal({ ...base, PUBLIC_URL: publicUrl })).toBeNull();
    });
  });

  describe.each([
    "https://staging.example.com",
    "https://auth.example.test",
    "http://127.0.0.1.nip.io:8787",
    "http://localhost.example.com",
    "http://sub.localhost",
    "http://0.0.0.0:8787",
    "http://10.0.0.5:8787",
    "http://[::2]:8787",
  ])("with PUBLIC_URL %s", (publicUrl) => {
    it("refuses to start, naming ENVIRONMENT", () => {
      const err = refusal({ ...base, PUBLIC_URL: publicUrl });
      expect(err?.setting).toBe("ENVIRONMENT");
      expect(err?.problem).toMatch(/loopback PUBLIC_URL/);
    });
  });

  it.each(["production", "test"])("does not restrict PUBLIC_URL in %s", (environment) => {
    expect(refusal({ ...base, ENVIRONMENT: environment, RESEND_API_KEY: "re_x", PUBLIC_URL: "https://staging.example.com" })).toBeNull();
  });
});

describe("WEBHOOK_ENDPOINTS", () => {
  const secret = `whsec_${btoa("k".repeat(32))}`;
  const production = { ...base, ENVIRONMENT: "production", RESEND_API_KEY: "re_x", PUBLIC_URL: "https://auth.example.com" };
  const endpoints = (value: unknown) => ({ ...production, WEBHOOK_ENDPOINTS: typeof value === "string" ? value : JSON.stringify(value) });

  it("reads a JSON array of {url, secret, events?}; no events means every event", () => {
    const config = parseConfig(
      endpoints([
        { url: "https://crm.example.com/hooks", secret },
        { url: "https://billing.example.com/hooks", secret, events: ["user.disabled", "user.deleted", "user.disabled"] },
      ]),
    );
    expect(config.webhookEndpoints).toEqual([
      { url: "https://crm.example.com/hooks", secret, events: null },
      { url: "https://billing.example.com/hooks", secret, events: ["user.disabled", "user.deleted"] },
    ]);
    expect(parseConfig(production).webhookEndpoints).toEqual([]);
  });

  describe.each([
    ["not JSON", "[{url:", /is not JSON/],
    ["not an array", { url: "https://crm.example.com/", secret }, /must be a JSON array/],
    ["an entry with an unknown field", [{ url: "https://crm.example.com/", secret, method: "PUT" }], /entry 1 must be/],
    ["a private address", [{ url: "https://10.0.0.8/hooks", secret }], /entry 1: url must not point at a private/],
    ["plain http in production", [{ url: "http://crm.example.com/hooks", secret }], /entry 1: url must use https/],
    ["loopback in production", [{ url: "https://127.0.0.1:9000/", secret }], /entry 1: url must not point at a private/],
    ["a secret without whsec_", [{ url: "https://crm.example.com/", secret: "c2VjcmV0" }], /entry 1: secret must start with whsec_/],
    ["a secret of 16 bytes", [{ url: "https://crm.example.com/", secret: `whsec_${btoa("k".repeat(16))}` }], /entry 1: secret must hold 24 to 64 bytes/],
    ["an unknown event type", [{ url: "https://crm.example.com/", secret, events: ["user.exploded"] }], /entry 1: events names an unknown event type/],
    ["no event types", [{ url: "https://crm.example.com/", secret, events: [] }], /entry 1 must be/],
    ["one URL twice", [{ url: "https://crm.example.com/", secret }, { url: "https://crm.example.com/", secret }], /entry 2: url is declared twice/],
  ])("with %s", (_label, value, problem) => {
    it("refuses to start, naming the setting and the entry but never the secret", () => {
      const err = refusal(endpoints(value));
      expect(err?.setting).toBe("WEBHOOK_ENDPOINTS");
      expect(err?.problem).toMatch(problem);
      expect(err?.problem).not.toContain(secret.slice(6));
    });
  });

  it("accepts loopback http in development, for the local receiver", () => {
    const config = parseConfig({ ...base, PUBLIC_URL: "http://127.0.0.1:8787", WEBHOOK_ENDPOINTS: JSON.stringify([{ url: "http://127.0.0.1:9000/", secret }]) });
    expect(config.webhookEndpoints).toHaveLength(1);
  });
});

describe("WEBAUTHN_RP_ID", () => {
  const prod = { ...base, ENVIRONMENT: "production", RESEND_API_KEY: "re_x", PUBLIC_URL: "https://auth.example.com", ALLOWED_ORIGINS: "https://app.example.com, https://other.test" };

  it("takes the origins under it from PUBLIC_URL and ALLOWED_ORIGINS, and none from elsewhere", () => {
    const config = parseConfig({ ...prod, WEBAUTHN_RP_ID: "example.com" });
    expect(config.webauthnRpId).toBe("example.com");
    expect(config.webauthnOrigins).toEqual(["https://auth.example.com", "https://app.example.com"]);
  });

  it("is off when unset", () => {
    expect(parseConfig(prod).webauthnOrigins).toEqual([]);
  });

  it.each(["com", "dev"])("refuses the public suffix %s", (rpId) => {
    expect(refusal({ ...prod, WEBAUTHN_RP_ID: rpId })).toMatchObject({ setting: "WEBAUTHN_RP_ID", problem: expect.stringMatching(/public suffix/) });
  });

  it("refuses an RP ID that covers neither PUBLIC_URL nor an allowed origin", () => {
    expect(refusal({ ...prod, WEBAUTHN_RP_ID: "example.org" })).toMatchObject({ setting: "WEBAUTHN_RP_ID", problem: expect.stringMatching(/covers neither/) });
  });

  it("refuses localhost in production and allows it in development", () => {
    expect(refusal({ ...prod, WEBAUTHN_RP_ID: "localhost" })?.setting).toBe("WEBAUTHN_RP_ID");
    // In development the usual local dev servers are allowed origins too; those at localhost are under it.
    const origins = parseConfig({ ...base, PUBLIC_URL: "http://localhost:8787", WEBAUTHN_RP_ID: "localhost" }).webauthnOrigins;
    expect(origins[0]).toBe("http://localhost:8787");
    expect(origins).toContain("http://localhost:5173");
    expect(origins.some((o) => o.includes("127.0.0.1"))).toBe(false);
  });
});

describe("MFA_REQUIRED", () => {
  it("is off by default and on only for true", () => {
    expect(parseConfig({ ...base, PUBLIC_URL: "http://127.0.0.1:8787" }).mfaRequired).toBe(false);
    expect(parseConfig({ ...base, PUBLIC_URL: "http://127.0.0.1:8787", MFA_REQUIRED: "true" }).mfaRequired).toBe(true);
    expect(refusal({ ...base, PUBLIC_URL: "http://127.0.0.1:8787", MFA_REQUIRED: "yes" })?.setting).toBe("MFA_REQUIRED");
  });
});
