import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { desc, eq } from "drizzle-orm";
import { UNLOCK_CODE_TTL_SECONDS } from "../auth/link-mails.ts";
import { renderEmail, type TemplateData, type TemplateName } from "../mail/templates.ts";
import type { Config } from "../config.ts";
import { EMAIL_CHANGE_UNDO_HOURS } from "../auth/email-change.ts";
import { outbox } from "../db/schema.ts";
import type { AppEnv, Deps } from "../deps.ts";
import { AppError } from "../lib/errors.ts";
import { isLoopbackHost } from "../lib/loopback.ts";
import { LOCALES, type Locale } from "../lib/locale.ts";
import { renderStoredMail } from "../mail/outbox.ts";
import { devPage } from "./dev-page.tsx";
import { devWebhookRoutes } from "./dev-webhooks.tsx";
import { devPasskeyPage } from "./dev-passkeys.tsx";

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
    expiresInSeconds: config.confirmTokenTtl,
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
    expiresInSeconds: config.resetTokenTtl,
  }),
  "password-changed": (config) => ({
    appName: config.appName,
    name: "Ana",
    when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString(),
    ip: "203.0.113.7",
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/130.0",
    resetUrl: config.forgotPasswordUrl,
  }),
  invite: (config) => ({
    appName: config.appName,
    name: "Ana",
    link: config.resetUrl.replace("{token}", PREVIEW_TOKEN),
    code: PREVIEW_CODE,
    expiresInSeconds: config.confirmTokenTtl,
  }),
  "unlock-code": (config) => ({
    appName: config.appName,
    name: "Ana",
    code: PREVIEW_CODE,
    expiresInSeconds: UNLOCK_CODE_TTL_SECONDS,
    resetUrl: config.forgotPasswordUrl,
  }),
  "mfa-changed": (config) => ({
    appName: config.appName,
    name: "Ana",
    change: "recovery_code_used",
    when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString(),
    ip: "203.0.113.7",
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/130.0",
    recoveryCodesLeft: 2,
    resetUrl: config.forgotPasswordUrl,
  }),
  "email-change-confirm": (config) => ({
    appName: config.appName,
    name: "Ana",
    link: config.emailChangeConfirmUrl.replace("{token}", PREVIEW_TOKEN),
    code: PREVIEW_CODE,
    expiresInSeconds: config.confirmTokenTtl,
  }),
  "email-change-requested": (config) => ({
    appName: config.appName,
    name: "Ana",
    newEmail: "ana.new@example.com",
    when: new Date(Date.UTC(2026, 0, 15, 9, 30)).toISOString(),
    link: config.emailChangeRevertUrl.replace("{token}", PREVIEW_TOKEN),
    undoSeconds: EMAIL_CHANGE_UNDO_HOURS * 3600,
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

// Config already refuses development on a non-loopback PUBLIC_URL; this also keeps the routes from
// a deployment reached by another name and from a page whose domain resolves to 127.0.0.1 (DNS
// rebinding), which still sends its own Host. They answer exactly like a path that does not exist.
export const loopbackOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!isLoopbackHost(c.req.header("host") ?? new URL(c.req.url).host)) throw new AppError("not_found");
  await next();
});

// GET / in development: where LOGIN_URL points unless it is set, and the way to everything else.
// `answersGet` tells which optional pages (/docs, /example) this build has.
export function devHomeRoutes(answersGet: (path: string) => boolean) {
  return new Hono<AppEnv>().get("/", loopbackOnly, (c) => {
    const { config, mailer } = c.var.deps;
    const optional = [
      { path: "/docs", label: "API documentation" },
      { path: "/example", label: "Example app" },
    ].filter((page) => answersGet(page.path));
    return devPage(
      c,
      "Development",
      <>
        <h1>{config.appName} is running in development</h1>
        <p>
          This page is what LOGIN_URL links to until you set it to your app's login page.{" "}
          {mailer.kind === "dev" ? "Mail is not sent anywhere while RESEND_API_KEY is unset: it lands in the dev mailbox." : "Mail goes out through Resend."}
        </p>
        <ul>
          <li>
            <a href="/dev/mailbox">Dev mailbox</a>: every mail with its links (also as <a href="/dev/mailbox.json">JSON</a>)
          </li>
          <li>
            <a href="/dev/emails">Email previews</a>: every template in every language, with sample data
          </li>
          <li>
            <a href="/dev/webhooks">Webhooks</a>: every outbound webhook, its deliveries and their attempts (also as{" "}
            <a href="/dev/webhooks.json">JSON</a>)
          </li>
          {optional.map((page) => (
            <li>
              <a href={page.path}>{page.label}</a>
            </li>
          ))}
          <li>
            <a href="/health">Health</a> and the public signing keys at <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>
          </li>
        </ul>
        <p>
          The API is under /v1. Browsers may call it from{" "}
          {config.allowedOrigins.length ? config.allowedOrigins.map((origin, i) => <>{i > 0 ? ", " : ""}<code>{origin}</code></>) : "no other origin"}{" "}
          (ALLOWED_ORIGINS).
        </p>
      </>,
    );
  });
}

// GET /dev/mailbox, /dev/mailbox.json, /dev/mailbox/:id.html, /dev/emails, /dev/emails/:template, /dev/passkeys,
// /dev/webhooks, /dev/webhooks.json
export const devRoutes = new Hono<AppEnv>()
  .use("*", loopbackOnly)
  .get("/emails", (c) =>
    devPage(
      c,
      "Email previews",
      <>
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
      </>,
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
  .route("/passkeys", devPasskeyPage)
  .route("/", devWebhookRoutes)
  .get("/mailbox.json", async (c) => c.json({ messages: await readMailbox(c.var.deps) }))
  // One stored mail's HTML as its recipient sees it. It is our own template, but it holds what
  // registrants typed (names, escaped): no script or outside resource may run in it.
  .get("/mailbox/:file{[0-9a-f-]{36}\\.html}", async (c) => {
    const deps = c.var.deps;
    const [row] = await deps.db.select().from(outbox).where(eq(outbox.id, c.req.param("file").slice(0, -".html".length))).limit(1);
    if (!row) throw new AppError("not_found", "No mail has that id.");
    const mail = await renderStoredMail(deps, row);
    if (!mail) throw new AppError("not_found", "This mail's content is not kept: it went out through Resend.");
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
    return c.html(mail.html);
  })
  .get("/mailbox", async (c) => {
    const messages = await readMailbox(c.var.deps);
    return devPage(
      c,
      "Dev mailbox",
      <>
        <h1>Dev mailbox</h1>
        <p>
          Newest first, at most {LIMIT}. {c.var.deps.mailer.kind === "dev" ? "Mail is not sent anywhere while RESEND_API_KEY is unset." : ""}{" "}
          <a href="/dev/mailbox.json">JSON</a> · <a href="/dev/emails">Email previews</a>
        </p>
        {messages.length === 0 ? <p>No mail yet.</p> : null}
        {messages.map((m) => (
          <article>
            <h2>{m.subject ?? `(${m.template})`}</h2>
            <p class="meta">
              to {m.to} · {m.template} · {m.locale} · {m.created_at} · status <b>{m.status}</b> · attempts {m.attempts}
              {m.last_error ? ` · ${m.last_error}` : ""}
              {m.html ? (
                <>
                  {" · "}
                  <a href={`/dev/mailbox/${m.id}.html`}>view HTML</a>
                </>
              ) : null}
            </p>
            <ul>
              {m.links.map((link) => (
                <li>
                  <a href={link}>{link}</a>
                </li>
              ))}
            </ul>
            {m.text ? <pre>{m.text}</pre> : null}
          </article>
        ))}
      </>,
    );
  });
