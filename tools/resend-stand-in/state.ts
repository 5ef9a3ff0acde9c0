import { randomUUID } from "node:crypto";

export type FailureMode =
  | { mode: "none"; to?: string }
  | { mode: "status"; status: 500 | 429 | 422; retryAfterSeconds?: number; times?: number; to?: string }
  | { mode: "reset"; times?: number; to?: string };

export interface SentEmailBody {
  from: string;
  to: string | string[];
  subject: string;
  html?: string;
  text?: string;
  [field: string]: unknown;
}

export interface ReceivedMail {
  id: string;
  receivedAt: string;
  headers: { authorization: string | null; idempotencyKey: string | null };
  body: SentEmailBody;
}

export interface IdempotencyCount {
  deliveries: number;
  requests: number;
}

type ActiveFailure = Exclude<FailureMode, { mode: "none" }>;

interface IdempotencyEntry extends IdempotencyCount {
  /** The id of each mail the request delivered (one for POST /emails). */
  ids: string[];
  canonicalBody: string;
}

export type AcceptOutcome =
  | { kind: "delivered"; ids: string[] }
  | { kind: "replayed"; ids: string[] }
  | { kind: "key-reused"; ids: string[] };

/** Everything the stand-in remembers; one per server, cleared by reset(). */
export class StandInState {
  #messages: ReceivedMail[] = [];
  #idempotency = new Map<string, IdempotencyEntry>();
  // Keyed by lower-cased recipient, "" for the rule that applies to every recipient: test files
  // running in parallel share one stand-in, so each scopes its failures to its own addresses.
  #failures = new Map<string, ActiveFailure>();

  messages(to?: string | null): ReceivedMail[] {
    if (!to) return [...this.#messages];
    const wanted = to.toLowerCase();
    return this.#messages.filter((mail) => recipientsOf(mail.body).includes(wanted));
  }

  idempotencyCounts(): Record<string, IdempotencyCount> {
    const counts: Record<string, IdempotencyCount> = {};
    for (const [key, entry] of this.#idempotency) counts[key] = { deliveries: entry.deliveries, requests: entry.requests };
    return counts;
  }

  setFailure(failure: FailureMode): void {
    const scope = failure.to?.toLowerCase() ?? "";
    if (failure.mode === "none") this.#failures.delete(scope);
    else this.#failures.set(scope, failure);
  }

  /** The failure to play for a request to these recipients, counting it against `times`. */
  takeFailure(recipients: string[]): ActiveFailure | null {
    const scope = recipients.find((recipient) => this.#failures.has(recipient)) ?? "";
    const failure = this.#failures.get(scope);
    if (!failure) return null;
    if (failure.times !== undefined) {
      if (failure.times <= 1) this.#failures.delete(scope);
      else this.#failures.set(scope, { ...failure, times: failure.times - 1 });
    }
    return failure;
  }

  /**
   * Delivers the mails of one request (POST /emails: one; POST /emails/batch: the valid ones), or,
   * for a key seen before, answers what that request got. `canonical` is what the key is bound to:
   * the whole request body.
   */
  accept(bodies: SentEmailBody[], canonical: unknown, headers: ReceivedMail["headers"]): AcceptOutcome {
    const key = headers.idempotencyKey;
    const canonicalBody = JSON.stringify(canonical);
    const previous = key === null ? undefined : this.#idempotency.get(key);
    if (previous) {
      previous.requests += 1;
      return previous.canonicalBody === canonicalBody
        ? { kind: "replayed", ids: previous.ids }
        : { kind: "key-reused", ids: previous.ids };
    }
    const receivedAt = new Date().toISOString();
    const ids = bodies.map((body) => {
      const id = randomUUID();
      this.#messages.push({ id, receivedAt, headers, body });
      return id;
    });
    if (key !== null) this.#idempotency.set(key, { ids, canonicalBody, deliveries: 1, requests: 1 });
    return { kind: "delivered", ids };
  }

  reset(): void {
    this.#messages = [];
    this.#idempotency.clear();
    this.#failures.clear();
  }
}

export function recipientsOf(body: unknown): string[] {
  if (Array.isArray(body)) return body.flatMap(recipientsOf);
  if (typeof body !== "object" || body === null) return [];
  const to: unknown = (body as Record<string, unknown>).to;
  const list = Array.isArray(to) ? to : [to];
  return list.filter((item): item is string => typeof item === "string").map((item) => item.toLowerCase());
}

/** Parses a FailureMode sent over HTTP; null when it is not one. */
export function parseFailureMode(input: unknown): FailureMode | null {
  if (typeof input !== "object" || input === null) return null;
  const value = input as Record<string, unknown>;
  const to = typeof value.to === "string" ? value.to : undefined;
  if (value.to !== undefined && to === undefined) return null;
  const times = value.times;
  if (times !== undefined && !(Number.isInteger(times) && (times as number) > 0)) return null;
  const timesPart = times === undefined ? {} : { times: times as number };
  const toPart = to === undefined ? {} : { to };
  if (value.mode === "none") return { mode: "none", ...toPart };
  if (value.mode === "reset") return { mode: "reset", ...timesPart, ...toPart };
  if (value.mode !== "status") return null;
  const status = value.status;
  if (status !== 500 && status !== 429 && status !== 422) return null;
  const retryAfter = value.retryAfterSeconds;
  if (retryAfter !== undefined && !(Number.isInteger(retryAfter) && (retryAfter as number) >= 0)) return null;
  const retryPart = retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter as number };
  return { mode: "status", status, ...retryPart, ...timesPart, ...toPart };
}
