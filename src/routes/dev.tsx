import { Hono } from "hono";
import { desc } from "drizzle-orm";
import { renderEmail, type TemplateData, type TemplateName } from "../mail/templates.ts";
import type { Config } from "../config.ts";
import { EMAIL_CHANGE_UNDO_HOURS } from "../auth/email-change.ts";
import { outbox } from "../db/schema.ts";
import type { AppEnv, Deps } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { isLoopbackHost } from "../lib/loopback.ts";
import { LOCALES, type Locale } from "../lib/locale.ts";
import { renderStoredMail } from "../mail/outbox.ts";

// Development only (createApp mounts these when ENVIRONMENT=development): the outbox is the mailbox.

const LIMIT = 100;

// Data for previews; the token in the links is a placeholder that no endpoint accepts.
const PREVIEW_TOKEN = "preview-token-not-valid";
const PREVIEW_CODE = "123456";
const samples: { [T in TemplateName]: (config: Config) => TemplateData[T] } = {
  "confirm-email": (config) => ({
    appName: config.appName,
    name: "Ana",
    link: config.confirmUrl.replace("{token}", PREVIEW_TOKEN),
    code: PREVIEW_CODE,
    expiresInHours: Math.round(config.confirmTokenTtl / 3600),
  }),
  "already-registered": (config) => ({
    appName: config.appName,
    name: "Ana",
    loginUrl: config.loginUrl,
    resetUrl: config.forgotPasswordUrl,
  }),
  "reset-password": (config) => ({
    appName: config.appName,
    name: "Ana",
    link: config.resetUrl.replace("{token}", PREVIEW_TOKEN),
    code: PREVIEW_CODE,
    expiresInMinutes: Math.round(config.resetTokenTtl / 60),
  }),
  "password-changed": (config) => ({
    appName: config.appName,
    name: "Ana",
    when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString(),
    ip: "203.0.113.7",
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/130.0",
    resetUrl: config.forgotPasswordUrl,
  }),
  "unlock-code": (config) => ({
    appName: config.appName,
    name: "Ana",
    code: PREVIEW_CODE,
    expiresInMinutes: 10,
    resetUrl: config.forgotPasswordUrl,
  }),
  "email-change-confirm": (config) => ({
    appName: config.appName,
    name: "Ana",
    link: config.emailChangeConfirmUrl.replace("{token}", PREVIEW_TOKEN),
    code: PREVIEW_CODE,
    expiresInHours: Math.round(config.confirmTokenTtl / 3600),
  }),
  "email-change-requested": (config) => ({
    appName: config.appName,
    name: "Ana",
    newEmail: "ana.new@example.com",
    when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString(),
    link: config.emailChangeRevertUrl.replace("{token}", PREVIEW_TOKEN),
    undoHours: EMAIL_CHANGE_UNDO_HOURS,
  }),
  "email-in-use": (config) => ({ appName: config.appName, name: "Ana", loginUrl: config.loginUrl }),
  "account-deleted": (config) => ({ appName: config.appName, name: "Ana", when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString() }),
};

function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(samples, name);
}

function renderPreview<T extends TemplateName>(template: T, config: Config, locale: Locale) {
  return renderEmail(template, samples[template](config), locale);
}

async function readMailbox(deps: Deps) {
  const rows = await deps.db.select().from(outbox).orderBy(desc(outbox.createdAt)).limit(LIMIT);
  return Promise.all(
    rows.map(async (row) => {
      const rendered = await renderStoredMail(deps, row);
      return {
        id: row.id,
        to: row.toEmail,
        template: row.template,
        locale: row.locale,
        status: row.status,
        attempts: row.attempts,
        last_error: row.lastError,
        created_at: new Date(row.createdAt).toISOString(),
        subject: rendered?.subject ?? null,
        text: rendered?.text ?? null,
        html: rendered?.html ?? null,
        links: rendered ? [...rendered.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]) : [],
      };
    }),
  );
}

// GET /dev/mailbox, /dev/mailbox.json, /dev/emails, /dev/emails/:template
export const devRoutes = new Hono<AppEnv>()
  // Config already refuses development on a non-loopback PUBLIC_URL; this also keeps the routes from
  // a deployment reached by another name and from a page whose domain resolves to 127.0.0.1 (DNS
  // rebinding), which still sends its own Host. They answer exactly like a path that does not exist.
  .use("*", async (c, next) => {
    if (!isLoopbackHost(c.req.header("host") ?? new URL(c.req.url).host)) throw new AppError("not_found");
    await next();
  })
  .get("/emails", (c) =>
    c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Email previews · {c.var.deps.config.appName}</title>
        </head>
        <body style="font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem">
          <h1>Email previews</h1>
          <ul>
            {Object.keys(samples).flatMap((template) =>
              LOCALES.map((locale) => (
                <li>
                  {template} · {locale}: <a href={`/dev/emails/${template}?locale=${locale}`}>HTML</a> ·{" "}
                  <a href={`/dev/emails/${template}?locale=${locale}&format=text`}>text</a>
                </li>
              )),
            )}
          </ul>
        </body>
      </html>,
    ),
  )
  .get("/emails/:template", (c) => {
    const template = c.req.param("template");
    if (!isTemplateName(template)) throw new AppError("not_found", "No email template has that name.");
    const locale = c.req.query("locale") ?? "en";
    const format = c.req.query("format") ?? "html";
    if (!(LOCALES as readonly string[]).includes(locale) || (format !== "html" && format !== "text")) {
      throw new AppError("validation_failed", `Use ?locale=${LOCALES.join("|")} and ?format=html|text.`);
    }
    const mail = renderPreview(template, c.var.deps.config, locale as Locale);
    return format === "text" ? c.text(`Subject: ${mail.subject}\n\n${mail.text}`) : c.html(mail.html);
  })
  .get("/mailbox.json", async (c) => c.json({ messages: await readMailbox(c.var.deps) }))
  .get("/mailbox", async (c) => {
    const messages = await readMailbox(c.var.deps);
    return c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Dev mailbox · {c.var.deps.config.appName}</title>
        </head>
        <body style="font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem">
          <h1>Dev mailbox</h1>
          <p>Newest first, at most {LIMIT}. Mail is not sent anywhere while RESEND_API_KEY is unset.</p>
          {messages.length === 0 ? <p>No mail yet.</p> : null}
          {messages.map((m) => (
            <article style="border-top:1px solid #ddd;padding:.75rem 0">
              <h2 style="font-size:1.05rem;margin:0">{m.subject ?? `(${m.template})`}</h2>
              <p style="margin:.25rem 0;color:#555">
                to {m.to} · {m.template} · {m.locale} · {m.created_at} · status <b>{m.status}</b> · attempts {m.attempts}
                {m.last_error ? ` · ${m.last_error}` : ""}
              </p>
              <ul>
                {m.links.map((link) => (
                  <li>
                    <a href={link}>{link}</a>
                  </li>
                ))}
              </ul>
              {m.text ? <pre style="white-space:pre-wrap;background:#f6f8fa;padding:.5rem">{m.text}</pre> : null}
            </article>
          ))}
        </body>
      </html>,
    );
  });
