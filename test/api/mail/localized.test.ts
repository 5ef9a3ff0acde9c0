import { beforeAll, describe, expect, it } from "vitest";
import { mailsTo, tokenFrom, uniqueEmail } from "../../support/mail.ts";
import { createTestService, type TestService } from "../../support/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

async function register(email: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const json = { email, password: "correct horse battery", name: "Ana", ...body };
  const res = await t.request("/v1/register", { method: "POST", json, headers });
  expect(res.status).toBe(202);
  await t.settle();
  const mails = await mailsTo(email);
  expect(mails).toHaveLength(1);
  return mails[0]!;
}

describe("the confirmation mail speaks the user's language", () => {
  const PT = { subject: "Confirme o e-mail da sua conta Acme", greeting: "Olá, Ana," };
  const ES = { subject: "Confirma tu correo electrónico para Acme", greeting: "Hola, Ana:" };
  const EN = { subject: "Confirm your email address for Acme", greeting: "Hi Ana," };
  it.each<{ name: string; body: Record<string, string>; headers: Record<string, string>; subject: string; greeting: string }>([
    { name: "locale pt-BR", body: { locale: "pt-BR" }, headers: {}, ...PT },
    { name: "Accept-Language pt-BR", body: {}, headers: { "accept-language": "pt-BR,pt;q=0.9,en;q=0.5" }, ...PT },
    { name: "locale es", body: { locale: "es" }, headers: {}, ...ES },
    { name: "Accept-Language es-MX", body: {}, headers: { "accept-language": "es-MX,es;q=0.8" }, ...ES },
    { name: "a locale field over Accept-Language", body: { locale: "es" }, headers: { "accept-language": "pt-BR" }, ...ES },
    { name: "an unsupported language (fr)", body: { locale: "fr" }, headers: { "accept-language": "fr-FR" }, ...EN },
  ])("$name", async ({ body, headers, subject, greeting }) => {
    const mail = await register(uniqueEmail("locale"), body, headers);
    expect(mail.body.subject).toBe(subject);
    expect(mail.body.text).toContain(greeting);
    expect(mail.body.html).toContain(greeting);
    expect(tokenFrom(mail)).toHaveLength(43);
  });

  it("keeps using the language chosen at registration for later mail", async () => {
    const email = uniqueEmail("pt-later");
    const confirmation = await register(email, { locale: "pt-BR" });
    expect((await t.post("/v1/confirm", { token: tokenFrom(confirmation), password: "correct horse battery" })).status).toBe(200);
    // A later request in another language does not change the stored locale.
    await t.request("/v1/password/forgot", { method: "POST", json: { email }, headers: { "accept-language": "en" } });
    await t.settle();
    const mails = await mailsTo(email);
    expect(mails).toHaveLength(2);
    expect(mails[1]!.body.subject).toBe("Redefina a senha da sua conta Acme");
  });
});
