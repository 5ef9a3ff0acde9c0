import { Hono, type Context } from "hono";
import { and, asc, desc, eq, exists, lt } from "drizzle-orm";
import * as z from "zod";
import { recordAudit, recordAuditIf, type AuditType } from "../auth/audit.ts";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages, type WebhookDeliveryStatus } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { needScope } from "../http/api-key.ts";
import { deliverWebhooksAfterResponse } from "../http/deliver-after-response.ts";
import { validateJson, validateQuery } from "../http/validate.ts";
import { decodeBase64Url, decodeUtf8, encodeBase64Url, encodeUtf8 } from "../lib/crypto/encoding.ts";
import { AppError } from "../lib/errors.ts";
import { WEBHOOK_EVENT_TYPES } from "../lib/webhook-events.ts";
import { MAX_WEBHOOK_URL_LENGTH } from "../lib/webhook-url.ts";
import { WEBHOOK_CRON_BATCH } from "../webhooks/deliver.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  MAX_DESCRIPTION_LENGTH,
  rotateEndpointSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from "../webhooks/endpoints.ts";
import { replayEndpoint, replayMessage } from "../webhooks/replay.ts";

// The webhook endpoints through the admin API: the ones kept in the database (created here, each
// with its own secret, shown once) and the ones declared in WEBHOOK_ENDPOINTS (listed, and only
// enabled or disabled here). The repository is src/webhooks/endpoints.ts.
// GET|POST /admin/v1/webhooks/endpoints, GET|PATCH|DELETE /:id, POST /:id/rotate-secret,
// GET /:id/messages, GET /:id/messages/:messageId/attempts, POST /:id/messages/:messageId/replay,
// POST /:id/replay

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function toEndpointJson(endpoint: WebhookEndpoint, now: number) {
  return {
    id: endpoint.id,
    source: endpoint.source,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    disabled_at: iso(endpoint.disabledAt),
    failing_since: iso(endpoint.failingSince),
    // Only while the rotated-out secret still signs.
    previous_secret_expires_at: endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > now ? iso(endpoint.previousSecretExpiresAt) : null,
    created_at: iso(endpoint.createdAt),
    updated_at: iso(endpoint.updatedAt),
  };
}

const url = z.string().max(MAX_WEBHOOK_URL_LENGTH);
const events = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).nullable();
const description = z.string().trim().max(MAX_DESCRIPTION_LENGTH).nullable();

export const NewEndpoint = z.object({
  url,
  events: events.optional().meta({ description: "The event types to receive; absent or null: every type." }),
  description: description.optional(),
  enabled: z.boolean().optional(),
});

export const EndpointPatch = z
  .object({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
  .refine((v) => Object.values(v).some((field) => field !== undefined), "must name what to change: url, events, description or enabled");

export const EmptyBody = z.object({}).strict();

const isoTime = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));
export const ReplaySinceBody = z.object({ since: isoTime.meta({ description: "Every message that happened at or after this time." }) });

const DELIVERY_STATUSES = ["pending", "sending", "succeeded", "failed"] as const satisfies readonly WebhookDeliveryStatus[];
export const MessagesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
});

// Most recently queued first, by delivery id, which only grows: a walk through the pages sees each
// message once, and what is queued meanwhile is at the front, for the next walk. Within one commit's
// fan-out that is not the events' order; their sequence is. Opaque to clients.
const cursorOf = (deliveryId: number) => encodeBase64Url(encodeUtf8(String(deliveryId)));
function parseCursor(cursor: string): number {
  try {
    const id = Number(decodeUtf8(decodeBase64Url(cursor)));
    if (Number.isSafeInteger(id) && id > 0) return id;
  } catch {
    // falls through to the refusal
  }
  throw new AppError("validation_failed", "The cursor is not one this API gave out.");
}

const noSuchEndpoint = () => new AppError("not_found", "No webhook endpoint with that id.");
const isConfigured = (deps: AppEnv["Variables"]["deps"], id: string) => deps.webhookEndpoints.some((entry) => entry.id === id);
const storedEndpoint = (db: AppEnv["Variables"]["deps"]["db"], id: string) =>
  db
    .select({ id: webhookEndpoints.id, enabled: webhookEndpoints.enabled })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.source, "api")))
    .limit(1);

export const adminWebhookRoutes = new Hono<AppEnv>()
  .get("/", needScope("webhooks:read"), async (c) => {
    const deps = c.var.deps;
    const now = deps.clock.now();
    return c.json({ endpoints: (await listEndpoints(deps)).map((e) => toEndpointJson(e, now)) });
  })
  .post("/", needScope("webhooks:write"), validateJson(NewEndpoint), async (c) => {
    const deps = c.var.deps;
    const now = deps.clock.now();
    const audit = recordAudit(deps.db, "admin_webhook_endpoint_created", null, c.var.client, now, `key:${c.var.apiKey.id}`);
    const { endpoint, secret } = await createEndpoint(deps, c.req.valid("json"), [audit]);
    // The secret is in this answer only; it is stored sealed and never shown again.
    return c.json({ endpoint: toEndpointJson(endpoint, now), secret }, 201);
  })
  .get("/:id", needScope("webhooks:read"), async (c) => {
    const deps = c.var.deps;
    const endpoint = await getEndpoint(deps, c.req.param("id"));
    if (!endpoint) throw noSuchEndpoint();
    return c.json({ endpoint: toEndpointJson(endpoint, deps.clock.now()) });
  })
  .patch("/:id", needScope("webhooks:write"), validateJson(EndpointPatch), async (c) => {
    const deps = c.var.deps;
    const id = c.req.param("id");
    const endpoint = await updateEndpoint(deps, id, c.req.valid("json"), [auditChange(c, "admin_webhook_endpoint_updated", id)]);
    if (!endpoint) throw noSuchEndpoint();
    return c.json({ endpoint: toEndpointJson(endpoint, deps.clock.now()) });
  })
  .delete("/:id", needScope("webhooks:write"), async (c) => {
    const deps = c.var.deps;
    const id = c.req.param("id");
    if (isConfigured(deps, id)) throw new AppError("endpoint_configured");
    if (!(await deleteEndpoint(deps, id, [auditChange(c, "admin_webhook_endpoint_deleted", id)]))) throw noSuchEndpoint();
    return c.body(null, 204);
  })
  // A new secret, shown once. The old one keeps signing next to it for ROTATION_OVERLAP_MS, so
  // receivers can move to the new one without refusing a message in between.
  .post("/:id/rotate-secret", needScope("webhooks:write"), validateJson(EmptyBody), async (c) => {
    const deps = c.var.deps;
    const id = c.req.param("id");
    if (isConfigured(deps, id)) throw new AppError("endpoint_configured");
    const rotated = await rotateEndpointSecret(deps, id, [auditChange(c, "admin_webhook_secret_rotated", id)]);
    const endpoint = rotated ? await getEndpoint(deps, id) : null;
    if (!rotated || !endpoint) throw noSuchEndpoint();
    return c.json({ endpoint: toEndpointJson(endpoint, deps.clock.now()), secret: rotated.secret });
  })
  .get("/:id/messages", needScope("webhooks:read"), validateQuery(MessagesQuery), async (c) => {
    const { db } = c.var.deps;
    const id = c.req.param("id");
    const q = c.req.valid("query");
    const before = q.cursor ? parseCursor(q.cursor) : null;
    const d = webhookDeliveries;
    const m = webhookMessages;
    const [stored, rows] = await db.batch([
      storedEndpoint(db, id),
      db
        .select({ delivery: d, message: { id: m.id, type: m.type, seq: m.seq, occurredAt: m.occurredAt } })
        .from(d)
        .innerJoin(m, eq(m.id, d.messageId))
        .where(and(eq(d.endpointId, id), before === null ? undefined : lt(d.id, before), q.status ? eq(d.status, q.status) : undefined))
        .orderBy(desc(d.id))
        .limit(q.limit + 1),
    ]);
    if (stored.length === 0 && !isConfigured(c.var.deps, id)) throw noSuchEndpoint();
    const page = rows.slice(0, q.limit);
    return c.json({
      messages: page.map(({ delivery, message }) => ({
        id: message.id,
        type: message.type,
        sequence: message.seq,
        occurred_at: iso(message.occurredAt),
        status: delivery.status,
        attempts: delivery.attempts,
        last_status: delivery.lastStatus,
        last_error: delivery.lastError,
        next_attempt_at: delivery.status === "pending" ? iso(delivery.nextAttemptAt) : null,
        updated_at: iso(delivery.updatedAt),
      })),
      next_cursor: rows.length > q.limit ? cursorOf(page.at(-1)!.delivery.id) : null,
    });
  })
  .get("/:id/messages/:messageId/attempts", needScope("webhooks:read"), async (c) => {
    const { db } = c.var.deps;
    const id = c.req.param("id");
    const messageId = c.req.param("messageId");
    const [stored, delivery, attempts] = await db.batch([
      storedEndpoint(db, id),
      db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.messageId, messageId), eq(webhookDeliveries.endpointId, id)))
        .limit(1),
      db
        .select()
        .from(webhookAttempts)
        .where(and(eq(webhookAttempts.messageId, messageId), eq(webhookAttempts.endpointId, id)))
        .orderBy(asc(webhookAttempts.id)),
    ]);
    if (stored.length === 0 && !isConfigured(c.var.deps, id)) throw noSuchEndpoint();
    if (delivery.length === 0 && attempts.length === 0) throw new AppError("not_found", "No message with that id was sent to this endpoint.");
    return c.json({
      attempts: attempts.map((a) => ({
        attempt: a.attempt,
        at: iso(a.createdAt),
        status: a.status,
        latency_ms: a.latencyMs,
        response_excerpt: a.responseExcerpt,
        error: a.error,
      })),
    });
  })
  // Sent again with its original webhook-id and body: a receiver that already has it dedupes it.
  .post("/:id/messages/:messageId/replay", needScope("webhooks:write"), validateJson(EmptyBody), async (c) => {
    const deps = c.var.deps;
    const id = await enabledEndpointId(c);
    const audit = recordAudit(deps.db, "admin_webhook_replayed", null, c.var.client, deps.clock.now(), `key:${c.var.apiKey.id}`);
    const ids = await replayMessage(deps, c.req.param("messageId"), id, [audit]);
    if (ids === null) throw new AppError("not_found", "No message with that id.");
    deliverWebhooksAfterResponse(c, ids);
    return c.json({ queued: ids.length }, 202);
  })
  .post("/:id/replay", needScope("webhooks:write"), validateJson(ReplaySinceBody), async (c) => {
    const deps = c.var.deps;
    const id = await enabledEndpointId(c);
    const audit = recordAudit(deps.db, "admin_webhook_replayed", null, c.var.client, deps.clock.now(), `key:${c.var.apiKey.id}`);
    const ids = await replayEndpoint(deps, id, c.req.valid("json").since, [audit]);
    if (ids === null) throw noSuchEndpoint();
    // A cron run's worth goes out right after the response, within the invocation's subrequest
    // limit; the cron sends the rest, oldest first.
    deliverWebhooksAfterResponse(c, ids.slice(0, WEBHOOK_CRON_BATCH));
    return c.json({ queued: ids.length }, 202);
  });

/** The audit row of a change to a stored endpoint, written only if the endpoint exists when the batch runs. */
function auditChange(c: Context<AppEnv>, type: AuditType, id: string) {
  const { db, clock } = c.var.deps;
  const actor = `key:${c.var.apiKey.id}`;
  if (isConfigured(c.var.deps, id)) return recordAudit(db, type, null, c.var.client, clock.now(), actor);
  return recordAuditIf(db, type, null, c.var.client, clock.now(), exists(storedEndpoint(db, id)), actor);
}

/** The endpoint of the path, which must exist and be enabled: a disabled one would drop what is replayed to it. */
async function enabledEndpointId(c: Context<AppEnv>): Promise<string> {
  const endpoint = await getEndpoint(c.var.deps, c.req.param("id") ?? "");
  if (!endpoint) throw noSuchEndpoint();
  if (!endpoint.enabled) throw new AppError("endpoint_disabled");
  return endpoint.id;
}
