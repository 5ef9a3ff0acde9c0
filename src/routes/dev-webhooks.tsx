import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.ts";
import { listEndpoints } from "../webhooks/endpoints.ts";
import { readMessageLog } from "../webhooks/log.ts";

// Development only, mounted inside /dev (src/routes/dev.tsx), behind its loopback-Host check: the
// outbound webhooks, their endpoints and every delivery attempt.
// GET /dev/webhooks, /dev/webhooks.json

const LIMIT = 100;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function readWebhooks(deps: Deps) {
  const [endpoints, messages] = await Promise.all([listEndpoints(deps), readMessageLog(deps, LIMIT)]);
  const urls = new Map(endpoints.map((e) => [e.id, e.url]));
  return {
    endpoints: endpoints.map((e) => ({
      id: e.id,
      source: e.source,
      url: e.url,
      events: e.events,
      enabled: e.enabled,
      disabled_reason: e.disabledReason,
      failing_since: iso(e.failingSince),
    })),
    messages: messages.map((m) => ({
      id: m.id,
      type: m.type,
      sequence: m.sequence,
      occurred_at: iso(m.occurredAt),
      payload: m.payload,
      deliveries: m.deliveries.map((d) => ({
        endpoint_id: d.endpointId,
        url: urls.get(d.endpointId) ?? null,
        status: d.status,
        attempts: d.attempts,
        last_status: d.lastStatus,
        last_error: d.lastError,
        next_attempt_at: d.status === "pending" ? iso(d.nextAttemptAt) : null,
        log: d.log.map((a) => ({
          attempt: a.attempt,
          at: iso(a.createdAt),
          status: a.status,
          latency_ms: a.latencyMs,
          error: a.error,
          response_excerpt: a.responseExcerpt,
        })),
      })),
    })),
  };
}

export const devWebhookRoutes = new Hono<AppEnv>()
  .get("/webhooks.json", async (c) => c.json(await readWebhooks(c.var.deps)))
  .get("/webhooks", async (c) => {
    const { endpoints, messages } = await readWebhooks(c.var.deps);
    return c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Dev webhooks · {c.var.deps.config.appName}</title>
        </head>
        <body style="font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem">
          <h1>Webhooks</h1>
          <h2 style="font-size:1.1rem">Endpoints</h2>
          {endpoints.length === 0 ? (
            <p>
              None. Run <code>npm run webhook-receiver</code> and add the <code>WEBHOOK_ENDPOINTS</code> line it prints to
              .dev.vars, then restart <code>npm start</code>.
            </p>
          ) : null}
          <ul>
            {endpoints.map((e) => (
              <li>
                <code>{e.url}</code> · {e.source} · {e.events ? e.events.join(", ") : "every event"} ·{" "}
                <b>{e.enabled ? "enabled" : `disabled: ${e.disabled_reason ?? ""}`}</b>
                {e.failing_since ? ` · failing since ${e.failing_since}` : ""}
              </li>
            ))}
          </ul>
          <h2 style="font-size:1.1rem">Messages</h2>
          <p>Newest first, at most {LIMIT}.</p>
          {messages.length === 0 ? <p>No events yet.</p> : null}
          {messages.map((m) => (
            <article style="border-top:1px solid #ddd;padding:.75rem 0">
              <h3 style="font-size:1.05rem;margin:0">
                {m.type} <small style="color:#555">#{m.sequence} · {m.occurred_at} · {m.id}</small>
              </h3>
              <ul>
                {m.deliveries.map((d) => (
                  <li>
                    {d.url ?? d.endpoint_id}: <b>{d.status}</b> · attempts {d.attempts}
                    {d.last_status !== null ? ` · HTTP ${d.last_status}` : ""}
                    {d.last_error ? ` · ${d.last_error}` : ""}
                    {d.next_attempt_at ? ` · next ${d.next_attempt_at}` : ""}
                    <ul>
                      {d.log.map((a) => (
                        <li style="color:#555">
                          #{a.attempt} {a.at} · {a.status ?? "no answer"} · {a.latency_ms} ms{a.error ? ` · ${a.error}` : ""}
                          {a.response_excerpt ? <pre style="white-space:pre-wrap;margin:.25rem 0">{a.response_excerpt}</pre> : null}
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
              <pre style="white-space:pre-wrap;background:#f6f8fa;padding:.5rem">{JSON.stringify(m.payload, null, 2)}</pre>
            </article>
          ))}
        </body>
      </html>,
    );
  });
