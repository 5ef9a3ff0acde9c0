import { Hono } from "hono";
import { desc } from "drizzle-orm";
import { renderEmail, type TemplateName } from "../../emails/index.ts";
import { outbox } from "../db/schema.ts";
import type { AppEnv, Deps } from "../http/context.ts";
import { unseal } from "../lib/crypto/seal.ts";
import type { Locale } from "../mail/types.ts";

// Development only (createApp mounts these when ENVIRONMENT=development): the outbox is the mailbox.

const LIMIT = 100;

async function readMailbox(deps: Deps) {
  const rows = await deps.db.select().from(outbox).orderBy(desc(outbox.createdAt)).limit(LIMIT);
  return Promise.all(
    rows.map(async (row) => {
      const rendered = row.payload
        ? renderEmail(row.template as TemplateName, JSON.parse(await unseal(deps.outboxKey, row.payload)), row.locale as Locale)
        : null;
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

export const devRoutes = new Hono<AppEnv>()
  .get("/dev/mailbox.json", async (c) => c.json({ messages: await readMailbox(c.var.deps) }))
  .get("/dev/mailbox", async (c) => {
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
