import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookMessages } from "../../src/db/schema.ts";
import { generateWebhookSecret } from "../../src/lib/crypto/webhook-secrets.ts";
import type { Behaviour, ReceivedRequest } from "../../tools/webhook-stand-in/server.ts";
import { createTestService, TestClock, type TestService, type TestServiceOptions } from "./service.ts";

// Integrators' receivers, played by the webhook stand-in (tools/webhook-stand-in): each verifies
// with the standardwebhooks package, on a clock the test moves together with the service's.

export type { ReceivedRequest };

const standIn = () => env.WEBHOOK_STAND_IN_URL.replace(/\/$/, "");

async function call(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${standIn()}${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`webhook stand-in ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: { event_id: string; sequence: number; user: Record<string, unknown>; [field: string]: unknown };
}

export class Receiver {
  readonly url: string;
  constructor(
    readonly name: string,
    readonly secret: string,
  ) {
    this.url = `${standIn()}/hooks/${name}`;
  }

  /** Every request it got, oldest first. */
  async requests(): Promise<ReceivedRequest[]> {
    return (await call(`/_test/receivers/${this.name}/requests`)) as ReceivedRequest[];
  }

  /** The payloads it accepted (verified), oldest first. */
  async accepted(): Promise<WebhookPayload[]> {
    return (await this.requests()).filter((r) => r.verdict === "accepted").map((r) => JSON.parse(r.body) as WebhookPayload);
  }

  async behave(behaviour: Behaviour): Promise<void> {
    await call(`/_test/receivers/${this.name}/behaviour`, behaviour);
  }

  /** Verifies with another secret from now on (and forgets what it received). */
  async useSecret(secret: string, now: number | null): Promise<Receiver> {
    await call("/_test/receivers", { name: this.name, secret, now });
    return new Receiver(this.name, secret);
  }

  async setClock(now: number | null): Promise<void> {
    await call(`/_test/receivers/${this.name}/clock`, { now });
  }

  /** Sends a request of our own making to it, as an attacker replaying or altering one would. */
  async post(body: string, headers: Record<string, string>): Promise<number> {
    const res = await fetch(this.url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
    await res.body?.cancel();
    return res.status;
  }
}

export async function newReceiver(label: string, options: { secret?: string; now?: number | null } = {}): Promise<Receiver> {
  const name = `${label}-${crypto.randomUUID().slice(0, 8)}`;
  const secret = options.secret ?? generateWebhookSecret();
  await call("/_test/receivers", { name, secret, now: options.now ?? null });
  return new Receiver(name, secret);
}

/**
 * A service whose WEBHOOK_ENDPOINTS are these receivers (events per receiver optional), on a
 * TestClock the receivers share, and those in `alsoInStep` (endpoints a test creates itself):
 * advance() moves them all.
 */
export async function serviceWithReceivers(
  receivers: Array<Receiver | { receiver: Receiver; events: string[] }>,
  options: TestServiceOptions = {},
  alsoInStep: Receiver[] = [],
) {
  const clock = options.clock instanceof TestClock ? options.clock : new TestClock();
  const entries = receivers.map((r) => (r instanceof Receiver ? { receiver: r } : r));
  const inStep = [...entries.map((entry) => entry.receiver), ...alsoInStep];
  for (const receiver of inStep) await receiver.setClock(clock.now());
  const endpoints = entries.map(({ receiver, ...rest }) => ({ url: receiver.url, secret: receiver.secret, ...rest }));
  const t = await createTestService({
    ...options,
    clock,
    settings: { ...(endpoints.length > 0 ? { WEBHOOK_ENDPOINTS: JSON.stringify(endpoints) } : {}), ...options.settings },
  });
  return {
    t,
    clock,
    async advance(ms: number) {
      clock.advance(ms);
      await Promise.all(inStep.map((receiver) => receiver.setClock(clock.now())));
    },
  };
}

export function messagesOf(t: TestService) {
  return t.deps.db.select().from(webhookMessages).orderBy(asc(webhookMessages.seq));
}

export function deliveriesOf(t: TestService, endpointId?: string) {
  const q = t.deps.db.select().from(webhookDeliveries);
  return (endpointId ? q.where(eq(webhookDeliveries.endpointId, endpointId)) : q).orderBy(asc(webhookDeliveries.id));
}

export function attemptsOf(t: TestService, messageId: string) {
  return t.deps.db.select().from(webhookAttempts).where(eq(webhookAttempts.messageId, messageId)).orderBy(asc(webhookAttempts.id));
}

export async function endpointRow(t: TestService, id: string) {
  const [row] = await t.deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}
