// libSQL HTTP requests (Hrana pipelines) per API request, counted by the local libSQL server.
//
// "Total" is the libSQL server's own count once it has gone quiet (mail and webhooks delivered in
// waitUntil included). "Response path" is how many of those the response waited for, told apart by the gate
// in front of the server (bench/db-gate.ts); the smallest count over the trials is reported.
import type { DbGate } from "./db-gate.ts";
import type { Libsql } from "./stack.ts";
import { call, expectStatus, PASSWORD, registerConfirmed, registerUnconfirmed, tokenFromMailbox, type Answer, type Session } from "./api.ts";

export interface RoundTrips {
  endpoint: string;
  status: number;
  responsePath: number;
  total: number;
  /** Statements that may write (libSQL server's count), mail delivery included. */
  writes: number;
  /** Response-path count of every trial (a slow answer can make background work look needed). */
  trials: number[];
  /** Webhook requests the receiver got (delivery after the response), when one is configured. */
  webhooks: number;
}

export interface CountOptions {
  /** Only these probes (by endpoint name). */
  only?: string[];
  /** Requests the webhook receiver has received so far. */
  webhookRequests?: () => number;
}

interface Probe {
  endpoint: string;
  status: number;
  /** Everything the request needs, done before the counter is reset. */
  prepare: (n: number) => Promise<() => Promise<Answer>>;
}

export interface Counter {
  reset(): Promise<void>;
  read(): Promise<number>;
  /** Write statements since the reset. */
  writes(): Promise<number>;
}

export function libsqlCounter(libsql: Libsql): Counter {
  return {
    async reset() {
      // Every POST to the libSQL server needs its token; reading /stats does not.
      const res = await fetch(new URL("stats/reset", libsql.url), { method: "POST", headers: { authorization: `Bearer ${libsql.authToken}` } });
      if (!res.ok) throw new Error(`libSQL /stats/reset answered ${res.status}`);
      await res.body?.cancel();
    },
    async read() {
      const res = await fetch(new URL("stats", libsql.url));
      if (!res.ok) throw new Error(`libSQL /stats answered ${res.status}`);
      return ((await res.json()) as { pipelines: number }).pipelines;
    },
    async writes() {
      const res = await fetch(new URL("stats", libsql.url));
      if (!res.ok) throw new Error(`libSQL /stats answered ${res.status}`);
      return Object.values(((await res.json()) as { writes: Record<string, number> }).writes).reduce((a, b) => a + b, 0);
    },
  };
}

/** Waits until no pipeline has arrived for `quietMs` (background mail has finished). */
export async function settle(counter: Counter, quietMs = 150, maxMs = 5_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = await counter.read();
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const now = await counter.read();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) break;
  }
  return last;
}

function probes(base: string, run: string): Probe[] {
  const email = (what: string, n: number) => `rt-${run}-${what}-${n}@bench.example`;
  const confirmed = async (what: string, n: number): Promise<{ address: string; session: Session }> => {
    const address = email(what, n);
    return { address, session: await registerConfirmed(base, address) };
  };
  const get = (path: string, token?: string) => () => call(base, path, { token });
  const post = (path: string, json: unknown, token?: string) => () => call(base, path, { json, token });
  return [
    { endpoint: "GET /bench/bare", status: 200, prepare: async () => get("/bench/bare") },
    { endpoint: "GET /health", status: 200, prepare: async () => get("/health") },
    { endpoint: "GET /.well-known/jwks.json", status: 200, prepare: async () => get("/.well-known/jwks.json") },
    {
      endpoint: "GET /v1/me",
      status: 200,
      prepare: async (n) => get("/v1/me", (await confirmed("me", n)).session.access_token),
    },
    { endpoint: "POST /v1/register (new address)", status: 202, prepare: async (n) => post("/v1/register", { email: email("new", n), password: PASSWORD }) },
    {
      endpoint: "POST /v1/register (taken address)",
      status: 202,
      prepare: async (n) => post("/v1/register", { email: (await confirmed("taken", n)).address, password: PASSWORD }),
    },
    {
      endpoint: "POST /v1/confirm",
      status: 200,
      prepare: async (n) => {
        const address = email("confirm", n);
        await registerUnconfirmed(base, address);
        return post("/v1/confirm", { token: await tokenFromMailbox(base, address, "confirm-email"), password: PASSWORD });
      },
    },
    {
      endpoint: "POST /v1/confirm/resend",
      status: 202,
      prepare: async (n) => {
        const address = email("resend", n);
        await registerUnconfirmed(base, address);
        return post("/v1/confirm/resend", { email: address });
      },
    },
    { endpoint: "POST /v1/login", status: 200, prepare: async (n) => post("/v1/login", { email: (await confirmed("login", n)).address, password: PASSWORD }) },
    {
      endpoint: "POST /v1/login (wrong password)",
      status: 401,
      prepare: async (n) => post("/v1/login", { email: (await confirmed("wrong", n)).address, password: `${PASSWORD} (wrong)` }),
    },
    {
      endpoint: "POST /v1/token/refresh",
      status: 200,
      prepare: async (n) => post("/v1/token/refresh", { refresh_token: (await confirmed("refresh", n)).session.refresh_token }),
    },
    {
      endpoint: "POST /v1/logout",
      status: 204,
      prepare: async (n) => post("/v1/logout", {}, (await confirmed("logout", n)).session.access_token),
    },
    { endpoint: "POST /v1/password/forgot", status: 202, prepare: async (n) => post("/v1/password/forgot", { email: (await confirmed("forgot", n)).address }) },
    { endpoint: "POST /v1/password/forgot (unknown address)", status: 202, prepare: async (n) => post("/v1/password/forgot", { email: email("nobody", n) }) },
    {
      endpoint: "POST /v1/password/reset",
      status: 200,
      prepare: async (n) => {
        const { address } = await confirmed("reset", n);
        await expectStatus(call(base, "/v1/password/forgot", { json: { email: address } }), 202, "forgot");
        const token = await tokenFromMailbox(base, address, "reset-password");
        return post("/v1/password/reset", { token, password: `${PASSWORD} (new)` });
      },
    },
    {
      endpoint: "POST /v1/password/change",
      status: 200,
      prepare: async (n) => {
        const { session } = await confirmed("change", n);
        return post("/v1/password/change", { current_password: PASSWORD, new_password: `${PASSWORD} (new)` }, session.access_token);
      },
    },
  ];
}

export async function countRoundTrips(base: string, libsql: Libsql, gate: DbGate, trials: number, options: CountOptions = {}): Promise<RoundTrips[]> {
  const counter = libsqlCounter(libsql);
  const run = Date.now().toString(36);
  const results: RoundTrips[] = [];
  const hooks = options.webhookRequests ?? (() => 0);
  for (const probe of probes(base, run).filter((p) => !options.only || options.only.includes(p.endpoint))) {
    const seen: number[] = [];
    const totals: number[] = [];
    const writes: number[] = [];
    const webhooks: number[] = [];
    let status = 0;
    for (let n = 0; n < trials; n++) {
      const send = await probe.prepare(n);
      await settle(counter);
      await counter.reset();
      const hooksBefore = hooks();
      gate.arm();
      const answer = await send();
      gate.responseArrived();
      totals.push(await settle(counter));
      writes.push(await counter.writes());
      webhooks.push(hooks() - hooksBefore);
      seen.push(gate.disarm().responsePath);
      status = answer.status;
      if (answer.status !== probe.status) {
        throw new Error(`${probe.endpoint}: expected ${probe.status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
    }
    results.push({
      endpoint: probe.endpoint,
      status,
      responsePath: Math.min(...seen),
      total: Math.max(...totals),
      writes: Math.max(...writes),
      trials: seen,
      webhooks: Math.max(...webhooks),
    });
  }
  return results;
}
