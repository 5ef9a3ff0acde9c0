import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.ts";
import { listEndpoints } from "../webhooks/endpoints.ts";
import { readMessageLog } from "../webhooks/log.ts";
import { devPage } from "./dev-page.tsx";

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
    return devPage(
      c,
      "Webhooks",
      <>
        <h1>Webhooks</h1>
        <p>
          Newest first, at most {LIMIT}. <a href="/dev/webhooks.json">JSON</a> · <a href="/dev/mailbox">Dev mailbox</a>
        </p>
        <h2>Endpoints</h2>
        {endpoints.length === 0 ? (
          <p>
            None. Run <code>npm run webhook-receiver</code>, add the <code>WEBHOOK_ENDPOINTS</code> line it prints to .dev.vars and
            restart <code>npm start</code>.
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
        <h2>Messages</h2>
        {messages.length === 0 ? <p>No events yet.</p> : null}
        {messages.map((m) => (
          <article>
            <h2>
              {m.type} <small class="meta">#{m.sequence} · {m.occurred_at} · {m.id}</small>
            </h2>
            <ul>
              {m.deliveries.map((d) => (
                <li>
                  {d.url ?? d.endpoint_id}: <b>{d.status}</b> · attempts {d.attempts}
                  {d.last_status !== null ? ` · HTTP ${d.last_status}` : ""}
                  {d.last_error ? ` · ${d.last_error}` : ""}
                  {d.next_attempt_at ? ` · next ${d.next_attempt_at}` : ""}
                  <ul>
                    {d.log.map((a) => (
                      <li class="meta">
                        #{a.attempt} {a.at} · {a.status ?? "no answer"} · {a.latency_ms} ms{a.error ? ` · ${a.error}` : ""}
                        {a.response_excerpt ? <pre>{a.response_excerpt}</pre> : null}
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
            <pre>{JSON.stringify(m.payload, null, 2)}</pre>
          </article>
        ))}
      </>,
    );
  });
