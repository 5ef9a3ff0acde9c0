import { describe, expect, it } from "vitest";
import { renderEmail, type TemplateData, type TemplateName } from "../../emails/index.ts";
import { chooseLocale as resolveLocale, LOCALES } from "../../src/lib/locale.ts";
import type { Locale } from "../../src/lib/locale.ts";

const appName = "Acme Notes";

const samples: { [T in TemplateName]: { data: TemplateData[T]; links: string[] } } = {
  "confirm-email": {
    data: { appName, name: "Ana", link: "https://app.test/confirm#token=c0nf1rm", code: "135790", expiresInSeconds: 86_400 },
    links: ["https://app.test/confirm#token=c0nf1rm"],
  },
  "already-registered": {
    data: { appName, name: "Ana", loginUrl: "https://app.test/login", resetUrl: "https://app.test/forgot" },
    links: ["https://app.test/login", "https://app.test/forgot"],
  },
  "reset-password": {
    data: { appName, name: "Ana", link: "https://app.test/reset#token=r3s3t", code: "246801", expiresInSeconds: 1_800 },
    links: ["https://app.test/reset#token=r3s3t"],
  },
  "password-changed": {
    data: {
      appName,
      name: "Ana",
      when: "2026-03-05T14:07:09.000Z",
      ip: "203.0.113.9",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
      resetUrl: "https://app.test/forgot",
    },
    links: ["https://app.test/forgot"],
  },
  invite: {
    data: { appName, name: "Ana", link: "https://app.test/reset#token=1nv1t3", code: "975310", expiresInSeconds: 86_400 },
    links: ["https://app.test/reset#token=1nv1t3"],
  },
  "unlock-code": {
    data: { appName, name: "Ana", code: "042817", expiresInSeconds: 600, resetUrl: "https://app.test/forgot" },
    links: ["https://app.test/forgot"],
  },
  "mfa-changed": {
    data: {
      appName,
      name: "Ana",
      change: "recovery_code_used",
      when: "2026-03-05T14:07:09.000Z",
      ip: "203.0.113.9",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
      recoveryCodesLeft: 2,
      resetUrl: "https://app.test/forgot",
    },
    links: ["https://app.test/forgot"],
  },
  "email-change-confirm": {
    data: { appName, name: "Ana", link: "https://app.test/email/confirm#token=ch4ng3", code: "864200", expiresInSeconds: 86_400 },
    links: ["https://app.test/email/confirm#token=ch4ng3"],
  },
  "email-change-requested": {
    data: {
      appName,
      name: "Ana",
      newEmail: "ana.new@example.test",
      when: "2026-03-05T14:07:09.000Z",
      link: "https://app.test/email/revert#token=r3v3rt",
      undoSeconds: 72 * 3600,
    },
    links: ["https://app.test/email/revert#token=r3v3rt"],
  },
  "email-in-use": {
    data: { appName, name: "Ana", loginUrl: "https://app.test/login" },
    links: ["https://app.test/login"],
  },
  "account-deleted": {
    data: { appName, name: "Ana", when: "2026-03-05T14:07:09.000Z" },
    links: [],
  },
};

const templates = Object.keys(samples) as TemplateName[];

function render<T extends TemplateName>(template: T, locale: Locale, overrides: Partial<TemplateData[T]> = {}) {
  return renderEmail(template, { ...samples[template].data, ...overrides }, locale);
}

const cases = templates.flatMap((template) => LOCALES.map((locale) => ({ template, locale })));

describe.each(cases)("$template in $locale", ({ template, locale }) => {
  const mail = render(template, locale);

  it("names the app in the subject, the HTML and the text", () => {
    expect(mail.subject).toContain(appName);
    expect(mail.html).toContain(appName);
    expect(mail.text).toContain(appName);
  });

  it("greets the user by name in both parts", () => {
    expect(mail.html).toContain("Ana");
    expect(mail.text).toContain("Ana");
  });

  it("carries every link as a clickable href and as plain text", () => {
    for (const link of samples[template].links) {
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.text).toContain(link);
    }
  });

  it("is a whole HTML document in the mail's language", () => {
    expect(mail.html.startsWith("<!doctype html><html")).toBe(true);
    expect(mail.html).toContain(`lang="${locale}"`);
    expect(mail.html).toContain(`<title>${mail.subject}</title>`);
  });

  it("has a plain-text part without markup", () => {
    expect(mail.text).not.toMatch(/<[a-z/!]/i);
  });
});

describe.each(templates)("%s translations", (template) => {
  const [en, es, pt] = LOCALES.map((locale) => render(template, locale));

  it("differs between English, Spanish and Portuguese in subject and body", () => {
    const subjects = new Set([en?.subject, es?.subject, pt?.subject]);
    const texts = new Set([en?.text, es?.text, pt?.text]);
    expect(subjects.size).toBe(3);
    expect(texts.size).toBe(3);
  });

  it("falls back to a greeting without a name when the name is null or blank", () => {
    for (const name of [null, "   "]) {
      expect(render(template, "en", { name }).text.startsWith("Hi,\n")).toBe(true);
      expect(render(template, "es", { name }).text.startsWith("Hola:\n")).toBe(true);
      expect(render(template, "pt-BR", { name }).text.startsWith("Olá,\n")).toBe(true);
    }
  });

  it("escapes HTML metacharacters in the user's name", () => {
    const mail = render(template, "en", { name: `<script>alert("x")</script>` });
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.text).toContain(`Hi <script>alert("x")</script>,`);
  });

  it("escapes HTML metacharacters in the app name", () => {
    const mail = render(template, "en", { appName: `Tom & <Jerry>` });
    expect(mail.html).not.toContain("<Jerry>");
    expect(mail.html).toContain("Tom &amp; &lt;Jerry&gt;");
  });
});

describe("lifetimes", () => {
  it.each([
    ["en", 1, "1 second"],
    ["en", 30, "30 seconds"],
    ["en", 59, "59 seconds"],
    ["en", 90, "90 seconds"],
    ["en", 120, "2 minutes"],
    ["en", 1_800, "30 minutes"],
    ["en", 5_399, "89 minutes"],
    ["en", 86_400, "24 hours"],
    ["en", 7 * 86_400, "7 days"],
    ["es", 30, "30 segundos"],
    ["es", 86_400, "24 horas"],
    ["pt-BR", 45, "45 segundos"],
    ["pt-BR", 1_800, "30 minutos"],
  ] as const)("a link of %s living %i s is said to expire in %j", (locale, expiresInSeconds, expected) => {
    expect(render("confirm-email", locale, { expiresInSeconds }).text).toContain(` ${expected}`);
    expect(render("reset-password", locale, { expiresInSeconds }).text).toContain(` ${expected}`);
    expect(render("unlock-code", locale, { expiresInSeconds }).text).toContain(` ${expected}`);
  });

  it.each(LOCALES)("never says zero of anything in %s", (locale) => {
    for (let seconds = 1; seconds <= 200; seconds++) {
      expect(render("reset-password", locale, { expiresInSeconds: seconds }).text).not.toMatch(/\b0 [a-z]/);
    }
  });
});

// Articles agree with the name that follows ("a Acme", "an edge-auth", "no Amazon" are wrong for
// some names whatever the article), so the copy is phrased to need none before the app's name.
describe.each(["edge-auth", "Acme", "Umbrella", "Orbit"])("the app named %s", (name) => {
  const articles: Record<Locale, RegExp> = {
    en: /\b(a|an|the)$/i,
    es: /\b(el|la|los|las|del|al|un|una)$/i,
    "pt-BR": /\b(o|a|os|as|no|na|nos|nas|do|da|dos|das|ao|à|pelo|pela|um|uma)$/i,
  };

  it.each(cases)("follows no article in $template in $locale", ({ template, locale }) => {
    const mail = render(template, locale, { appName: name });
    for (const part of [mail.subject, mail.text]) {
      const before = part.split(name).slice(0, -1).map((text) => text.trimEnd());
      expect(before.length).toBeGreaterThan(0);
      for (const text of before) expect(text.slice(-30)).not.toMatch(articles[locale]);
    }
  });
});

describe("codes beside links", () => {
  it.each(["confirm-email", "reset-password", "invite", "email-change-confirm"] as const)("%s carries its code in both parts, in every language", (template) => {
    const code = samples[template].data.code!;
    for (const locale of LOCALES) {
      const mail = render(template, locale);
      expect(mail.html).toContain(`>${code}</p>`);
      expect(mail.text).toContain(`\n${code}\n`);
    }
  });

  it("leaves the code out of a mail queued before codes existed", () => {
    const mail = render("confirm-email", "en", { code: undefined });
    expect(mail.text).not.toMatch(/enter this code|\n[0-9]{6}\n/);
  });
});

describe("email change mails", () => {
  it("tells the old address where the account is moving and for how long the link undoes it", () => {
    const mail = render("email-change-requested", "en");
    expect(mail.text).toContain("ana.new@example.test");
    expect(mail.text).toContain("3 days");
    expect(mail.text).toContain("March 5, 2026");
  });
});

describe("password-changed details", () => {
  it("states when, from which IP and which device", () => {
    const mail = render("password-changed", "en");
    expect(mail.text).toContain("March 5, 2026");
    expect(mail.text).toContain("203.0.113.9");
    expect(mail.text).toContain("Firefox/140.0");
  });

  it("leaves out IP and device lines when they are unknown", () => {
    const mail = render("password-changed", "en", { ip: null, userAgent: null });
    expect(mail.text).not.toContain("IP address");
    expect(mail.text).not.toContain("Device");
  });

  it("shortens a long user agent and escapes its markup", () => {
    const mail = render("password-changed", "en", { userAgent: `<img src=x>${"A".repeat(500)}` });
    expect(mail.html).not.toContain("<img");
    expect(mail.text).not.toContain("A".repeat(200));
  });

  it("shows the raw value when the time does not parse", () => {
    expect(render("password-changed", "en", { when: "yesterday" }).text).toContain("yesterday");
  });
});

describe("chooseLocale", () => {
  it.each([
    [undefined, undefined, "en"],
    [null, null, "en"],
    ["pt-BR", null, "pt-BR"],
    ["pt-br", null, "pt-BR"],
    ["pt", null, "pt-BR"],
    ["pt-PT", null, "en"],
    ["es", null, "es"],
    ["es-MX", null, "es"],
    ["es-419", null, "es"],
    ["en-GB", null, "en"],
    ["fr", null, "en"],
    ["", "es-ES,es;q=0.9", "es"],
    ["de", "pt-BR,pt;q=0.9", "pt-BR"],
    ["es", "pt-BR", "es"],
    [null, "fr-FR,fr;q=0.9,es;q=0.8,en;q=0.7", "es"],
    [null, "en;q=0.5,pt-BR;q=0.8", "pt-BR"],
    [null, "es;q=0, en;q=0.1", "en"],
    [null, "es;q=0", "en"],
    // A malformed weight reads as the default 1, as hono's Accept parser has it.
    [null, "es;q=abc,pt-br;q=0.3", "es"],
    [null, "*", "en"],
    [null, "  ES-ar ; q=1 ", "es"],
    [null, "garbage,,;;", "en"],
  ])("(%j, %j) → %s", (requested, acceptLanguage, expected) => {
    expect(resolveLocale(requested, acceptLanguage)).toBe(expected);
  });

  it("lists the supported locales", () => {
    expect(LOCALES).toEqual(["en", "es", "pt-BR"]);
  });
});
