import { and, asc, eq, sql } from "drizzle-orm";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { ConfiguredWebhook } from "../config.ts";
import type { Db } from "../db/client.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { sha256Hex } from "../lib/crypto/encoding.ts";
import { seal, unseal } from "../lib/crypto/seal.ts";
import { generateWebhookSecret } from "../lib/crypto/webhook-secrets.ts";
import { AppError, type ErrorDetail } from "../lib/errors.ts";
import { isWebhookEventType } from "../lib/webhook-events.ts";
import { webhookUrlProblem } from "../lib/webhook-url.ts";
import type { ConfiguredEndpoint, EndpointRow, WebhookDeps } from "./types.ts";

// The webhook endpoints, for the admin API: the ones kept in the database (created here, each with
// its own secret) and the ones declared in WEBHOOK_ENDPOINTS (read-only here but for enabling and
// disabling; their url, secret and events are the setting's).

/** After a rotation the old secret keeps signing this long, so receivers can switch without a gap. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;
export const MAX_DESCRIPTION_LENGTH = 200;

export interface WebhookEndpoint {
  id: string;
  source: "api" | "config";
  url: string;
  description: string | null;
  /** null: every event type. */
  events: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  /** First failure since the last success; null while it succeeds. */
  failingSince: number | null;
  /** While a rotated-out secret still signs too. */
  previousSecretExpiresAt: number | null;
  /** Null for a configured endpoint that never needed a state row. */
  createdAt: number | null;
  updatedAt: number | null;
}

/**
 * Statements the caller commits in the same batch as a change, ahead of it (the admin API's audit
 * row), so the change and its record stand or fall together.
 */
export type Alongside = BatchItem<"sqlite">[];

type Statements = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/** One batch: `alongside`, then `changes`; answers what `changes` answer. */
export async function commitAlongside<T extends Statements>(db: Db, alongside: Alongside, changes: T): Promise<BatchResponse<T>> {
  const results = await db.batch([...alongside, ...changes] as unknown as T);
  return results.slice(alongside.length) as unknown as BatchResponse<T>;
}

export interface EndpointInput {
  url: string;
  /** The event types to receive; null or absent: all. */
  events?: readonly string[] | null;
  description?: string | null;
  enabled?: boolean;
}

/** Ids for WEBHOOK_ENDPOINTS entries, derived from their URLs so state survives reordering. */
export async function configuredEndpoints(list: ConfiguredWebhook[]): Promise<ConfiguredEndpoint[]> {
  return Promise.all(list.map(async (entry) => ({ ...entry, id: `cfg_${(await sha256Hex(entry.url)).slice(0, 24)}` })));
}

export function urlPolicy(deps: Pick<WebhookDeps, "config">) {
  return { allowLoopback: deps.config.environment !== "production" };
}

// A stored secret opens only for the row it was sealed for.
const sealContext = (endpointId: string) => `webhook secret\n${endpointId}`;

function checkInput(deps: Pick<WebhookDeps, "config">, input: Partial<EndpointInput>): void {
  const details: ErrorDetail[] = [];
  if (input.url !== undefined) {
    const problem = webhookUrlProblem(input.url, urlPolicy(deps));
    if (problem) details.push({ path: "url", message: problem });
  }
  if (input.events) {
    if (input.events.length === 0) details.push({ path: "events", message: "must name at least one event type, or be null for all" });
    const unknown = input.events.filter((name) => !isWebhookEventType(name));
    if (unknown.length > 0) details.push({ path: "events", message: `unknown event types: ${unknown.slice(0, 5).join(", ").slice(0, 200)}` });
  }
  if (input.description && input.description.length > MAX_DESCRIPTION_LENGTH) {
    details.push({ path: "description", message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` });
  }
  if (details.length > 0) throw new AppError("validation_failed", "The webhook endpoint is not valid.", { details });
}

const eventsOf = (events: readonly string[] | null | undefined) => (events ? [...new Set(events)] : null);

function fromRow(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    source: row.source,
    url: row.url,
    description: row.description,
    events: row.eventTypes ?? null,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt,
    failingSince: row.failingSince,
    previousSecretExpiresAt: row.previousSecretExpiresAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function fromConfig(entry: ConfiguredEndpoint, state: EndpointRow | undefined): WebhookEndpoint {
  return {
    id: entry.id,
    source: "config",
    url: entry.url,
    description: "declared in WEBHOOK_ENDPOINTS",
    events: entry.events,
    enabled: state?.enabled ?? true,
    disabledReason: state?.disabledReason ?? null,
    disabledAt: state?.disabledAt ?? null,
    failingSince: state?.failingSince ?? null,
    previousSecretExpiresAt: null,
    createdAt: state?.createdAt ?? null,
    updatedAt: state?.updatedAt ?? null,
  };
}

/** Creates an endpoint with a new secret, which is returned here once and never shown again. */
export async function createEndpoint(deps: WebhookDeps, input: EndpointInput, alongside: Alongside = []): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  checkInput(deps, input);
  const now = deps.clock.now();
  const id = `ep_${crypto.randomUUID().replaceAll("-", "")}`;
  const secret = generateWebhookSecret();
  const row: EndpointRow = {
    id,
    source: "api",
    url: input.url,
    description: input.description ?? null,
    eventTypes: eventsOf(input.events),
    enabled: input.enabled ?? true,
    disabledReason: input.enabled === false ? "created disabled" : null,
    disabledAt: input.enabled === false ? now : null,
    secret: await seal(deps.webhookKey, secret, sealContext(id)),
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  };
  await commitAlongside(deps.db, alongside, [deps.db.insert(webhookEndpoints).values(row)]);
  return { endpoint: fromRow(row), secret };
}

/** Every endpoint: the configured ones first, in the setting's order, then the stored ones, oldest first. */
export async function listEndpoints(deps: WebhookDeps): Promise<WebhookEndpoint[]> {
  const rows = await deps.db.select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.createdAt));
  const states = new Map(rows.filter((r) => r.source === "config").map((r) => [r.id, r]));
  return [
    ...deps.webhookEndpoints.map((entry) => fromConfig(entry, states.get(entry.id))),
    ...rows.filter((r) => r.source === "api").map(fromRow),
  ];
}

export async function getEndpoint(deps: WebhookDeps, id: string): Promise<WebhookEndpoint | null> {
  const [row] = await deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).limit(1);
  const configured = deps.webhookEndpoints.find((entry) => entry.id === id);
  if (configured) return fromConfig(configured, row);
  return row && row.source === "api" ? fromRow(row) : null;
}

/** What enabling or disabling writes; enabling forgets why it was disabled and its failure streak. */
function enabledFields(enabled: boolean, now: number) {
  return enabled
    ? { enabled, disabledReason: null, disabledAt: null, failingSince: null }
    : { enabled, disabledReason: "disabled by an operator", disabledAt: now };
}

/**
 * Changes an endpoint; null when there is none with this id. A configured endpoint can only be
 * enabled or disabled here; the rest of it is the setting's.
 */
export async function updateEndpoint(deps: WebhookDeps, id: string, patch: Partial<EndpointInput>, alongside: Alongside = []): Promise<WebhookEndpoint | null> {
  const { db } = deps;
  const now = deps.clock.now();
  const configured = deps.webhookEndpoints.find((entry) => entry.id === id);
  if (configured) {
    const { enabled, ...rest } = patch;
    if (Object.values(rest).some((v) => v !== undefined)) {
      throw new AppError("endpoint_configured");
    }
    if (enabled !== undefined) {
      await commitAlongside(db, alongside, [
        db
          .insert(webhookEndpoints)
          .values({ ...configuredStateRow(configured, now), ...enabledFields(enabled, now) })
          .onConflictDoUpdate({ target: webhookEndpoints.id, set: { ...enabledFields(enabled, now), updatedAt: now } }),
      ]);
    }
    return getEndpoint(deps, id);
  }
  checkInput(deps, patch);
  const [[row]] = await commitAlongside(db, alongside, [
    db
      .update(webhookEndpoints)
      .set({
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.events !== undefined ? { eventTypes: eventsOf(patch.events) } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.enabled !== undefined ? enabledFields(patch.enabled, now) : {}),
        updatedAt: now,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.source, "api")))
      .returning(),
  ]);
  return row ? fromRow(row) : null;
}

/**
 * A new secret for a stored endpoint, returned once. The old one keeps signing next to it (both
 * signatures in webhook-signature) for ROTATION_OVERLAP_MS; a second rotation within that time
 * drops the oldest. Null when there is no such stored endpoint.
 */
export async function rotateEndpointSecret(deps: WebhookDeps, id: string, alongside: Alongside = []): Promise<{ secret: string; previousExpiresAt: number } | null> {
  const now = deps.clock.now();
  const secret = generateWebhookSecret();
  const previousExpiresAt = now + ROTATION_OVERLAP_MS;
  const sealed = await seal(deps.webhookKey, secret, sealContext(id));
  const [rows] = await commitAlongside(deps.db, alongside, [
    deps.db
      .update(webhookEndpoints)
      .set({
        previousSecret: sql`${webhookEndpoints.secret}`,
        previousSecretExpiresAt: previousExpiresAt,
        secret: sealed,
        updatedAt: now,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.source, "api")))
      .returning({ id: webhookEndpoints.id }),
  ]);
  return rows.length > 0 ? { secret, previousExpiresAt } : null;
}

/** Deletes a stored endpoint; what it had not been sent yet is marked failed. False when there is none. */
export async function deleteEndpoint(deps: WebhookDeps, id: string, alongside: Alongside = []): Promise<boolean> {
  const { db } = deps;
  const now = deps.clock.now();
  const [deleted] = await commitAlongside(db, alongside, [
    db.delete(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.source, "api"))).returning({ id: webhookEndpoints.id }),
    db
      .update(webhookDeliveries)
      .set({ status: "failed", lastError: "endpoint deleted", claimedUntil: null, updatedAt: now })
      .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, "pending"))),
  ]);
  return deleted.length > 0;
}

/** The row that holds a configured endpoint's state, as first written. */
export function configuredStateRow(entry: ConfiguredEndpoint, now: number): EndpointRow {
  return {
    id: entry.id,
    source: "config",
    url: entry.url,
    description: null,
    eventTypes: entry.events,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    secret: null,
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** The secrets that sign for a stored endpoint now: its own, and the rotated-out one while it lasts. */
export async function storedSecrets(deps: Pick<WebhookDeps, "webhookKey">, row: EndpointRow, now: number): Promise<string[]> {
  const open = (sealed: string | null) => (sealed === null ? Promise.resolve(null) : unseal(deps.webhookKey, sealed, sealContext(row.id)).catch(() => null));
  const live = row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > now;
  const [current, previous] = await Promise.all([open(row.secret), live ? open(row.previousSecret) : null]);
  // Without its current secret an endpoint is not signed for at all (e.g. PASSWORD_PEPPER changed).
  if (current === null) return [];
  return previous === null ? [current] : [current, previous];
}
