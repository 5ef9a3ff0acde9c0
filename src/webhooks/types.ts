import type { BatchItem } from "drizzle-orm/batch";
import type { Config, ConfiguredWebhook } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { webhookDeliveries, webhookEndpoints, webhookMessages } from "../db/schema.ts";
import type { Clock } from "../lib/clock.ts";
import type { WebhookEventType } from "../lib/webhook-events.ts";

/** A WEBHOOK_ENDPOINTS entry with the id its state row and deliveries carry. */
export interface ConfiguredEndpoint extends ConfiguredWebhook {
  id: string;
}

/** What webhook delivery needs of the service's dependencies (the app's Deps has all of it). */
export interface WebhookDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, "environment">;
  /** AES-GCM key under which the secrets of endpoints kept in the database are stored. */
  webhookKey: CryptoKey;
  /** WEBHOOK_ENDPOINTS, with ids. */
  webhookEndpoints: ConfiguredEndpoint[];
  /** Outbound HTTP; defaults to the global fetch. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** How long an endpoint has to answer; WEBHOOK_TIMEOUT_MS unless a test shortens it. */
  webhookTimeoutMs?: number;
}

/** An event written in a batch: its message row's insert, and what the fan-out needs to know. */
export interface EmittedEvent {
  id: string;
  type: WebhookEventType;
  write: BatchItem<"sqlite">;
}

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type MessageRow = typeof webhookMessages.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
