import { Webhook } from "standardwebhooks";

// What the webhook stand-in remembers: named receivers, each verifying with its own secret the way
// an integrator's receiver would (the standardwebhooks package), answering as the test asks
// (up, down, a status, a redirect, no answer), and recording every request it got.

export type Behaviour =
  | { mode: "ok" }
  /** Drops the connection without an answer, as a receiver that is down. */
  | { mode: "down"; times?: number }
  | { mode: "status"; status: number; retryAfter?: string; body?: string; times?: number }
  | { mode: "redirect"; location: string; status?: 301 | 302 | 307 | 308; times?: number }
  /** Answers nothing until the connection is closed by the sender (or after 60 s). */
  | { mode: "hang"; times?: number };

export interface ReceivedRequest {
  webhookId: string | null;
  timestamp: string | null;
  signature: string | null;
  body: string;
  /** "accepted": signature and timestamp verified; "rejected": they did not; null: not looked at (down, status, redirect). */
  verdict: "accepted" | "rejected" | null;
  reason: string | null;
  /** The status answered; null when the connection was dropped. */
  answered: number | null;
  /** Accepted before under the same webhook-id. */
  duplicate: boolean;
}

interface Receiver {
  secret: string;
  /** The receiver's clock in ms; null follows the real clock. */
  now: number | null;
  behaviour: Behaviour;
  requests: ReceivedRequest[];
  accepted: Map<string, number>;
}

export type Answer =
  | { kind: "respond"; status: number; headers: Record<string, string>; body: string }
  | { kind: "drop" }
  | { kind: "hang" };

export class Receivers {
  #receivers = new Map<string, Receiver>();

  register(name: string, secret: string, now: number | null = null): void {
    new Webhook(secret); // throws on a secret it cannot use
    this.#receivers.set(name, { secret, now, behaviour: { mode: "ok" }, requests: [], accepted: new Map() });
  }

  has(name: string): boolean {
    return this.#receivers.has(name);
  }

  setClock(name: string, now: number | null): boolean {
    const receiver = this.#receivers.get(name);
    if (receiver) receiver.now = now;
    return receiver !== undefined;
  }

  setBehaviour(name: string, behaviour: Behaviour): boolean {
    const receiver = this.#receivers.get(name);
    if (receiver) receiver.behaviour = behaviour;
    return receiver !== undefined;
  }

  requests(name: string): ReceivedRequest[] | null {
    return this.#receivers.get(name)?.requests ?? null;
  }

  /** What to answer to a POST for `name`, recording it. */
  receive(name: string, headers: Record<string, string | undefined>, body: string): Answer | null {
    const receiver = this.#receivers.get(name);
    if (!receiver) return null;
    const request: ReceivedRequest = {
      webhookId: headers["webhook-id"] ?? null,
      timestamp: headers["webhook-timestamp"] ?? null,
      signature: headers["webhook-signature"] ?? null,
      body,
      verdict: null,
      reason: null,
      answered: null,
      duplicate: false,
    };
    receiver.requests.push(request);
    const behaviour = this.#take(receiver);
    switch (behaviour.mode) {
      case "down":
        return { kind: "drop" };
      case "hang":
        return { kind: "hang" };
      case "status":
        request.answered = behaviour.status;
        return {
          kind: "respond",
          status: behaviour.status,
          headers: behaviour.retryAfter === undefined ? {} : { "retry-after": behaviour.retryAfter },
          body: behaviour.body ?? `simulated ${behaviour.status}`,
        };
      case "redirect":
        request.answered = behaviour.status ?? 302;
        return { kind: "respond", status: request.answered, headers: { location: behaviour.location }, body: "" };
      case "ok":
        break;
    }
    try {
      verifyAt(receiver.now, () =>
        new Webhook(receiver.secret).verify(body, {
          "webhook-id": request.webhookId ?? "",
          "webhook-timestamp": request.timestamp ?? "",
          "webhook-signature": request.signature ?? "",
        }),
      );
    } catch (err) {
      request.verdict = "rejected";
      request.reason = err instanceof Error ? err.message : String(err);
      request.answered = 400;
      return { kind: "respond", status: 400, headers: {}, body: JSON.stringify({ error: request.reason }) };
    }
    request.verdict = "accepted";
    const seen = receiver.accepted.get(request.webhookId!) ?? 0;
    request.duplicate = seen > 0;
    receiver.accepted.set(request.webhookId!, seen + 1);
    request.answered = 204;
    return { kind: "respond", status: 204, headers: {}, body: "" };
  }

  #take(receiver: Receiver): Behaviour {
    const behaviour = receiver.behaviour;
    if (behaviour.mode !== "ok" && behaviour.times !== undefined) {
      receiver.behaviour = behaviour.times <= 1 ? { mode: "ok" } : { ...behaviour, times: behaviour.times - 1 };
    }
    return behaviour;
  }
}

/**
 * standardwebhooks checks the timestamp against Date.now(). A receiver given a clock (a test moving
 * time without sleeping) has that clock read instead, for the duration of the synchronous verify.
 */
function verifyAt<T>(now: number | null, verify: () => T): T {
  if (now === null) return verify();
  const realNow = Date.now;
  Date.now = () => now;
  try {
    return verify();
  } finally {
    Date.now = realNow;
  }
}

/** Parses a Behaviour sent over HTTP; null when it is not one. */
export function parseBehaviour(input: unknown): Behaviour | null {
  if (typeof input !== "object" || input === null) return null;
  const v = input as Record<string, unknown>;
  const times = v.times === undefined ? {} : Number.isInteger(v.times) && (v.times as number) > 0 ? { times: v.times as number } : null;
  if (times === null) return null;
  switch (v.mode) {
    case "ok":
      return { mode: "ok" };
    case "down":
    case "hang":
      return { mode: v.mode, ...times };
    case "status": {
      if (!Number.isInteger(v.status) || (v.status as number) < 200 || (v.status as number) > 599) return null;
      if (v.retryAfter !== undefined && typeof v.retryAfter !== "string") return null;
      if (v.body !== undefined && typeof v.body !== "string") return null;
      return {
        mode: "status",
        status: v.status as number,
        ...(v.retryAfter === undefined ? {} : { retryAfter: v.retryAfter as string }),
        ...(v.body === undefined ? {} : { body: v.body as string }),
        ...times,
      };
    }
    case "redirect": {
      if (typeof v.location !== "string") return null;
      const status = v.status === undefined ? {} : [301, 302, 307, 308].includes(v.status as number) ? { status: v.status as 301 | 302 | 307 | 308 } : null;
      return status === null ? null : { mode: "redirect", location: v.location, ...status, ...times };
    }
    default:
      return null;
  }
}
