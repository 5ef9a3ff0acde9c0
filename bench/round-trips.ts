// libSQL HTTP requests (Hrana pipelines) per API request, counted by the local libSQL server.
//
// "Total" is the libSQL server's own count once it has gone quiet (mail and webhooks delivered in
// waitUntil included). "Response path" is how many of those the response waited for, told apart by the gate
// in front of the server (bench/db-gate.ts); the smallest count over the trials is reported.
import type { DbGate } from "./db-gate.ts";
import type { Libsql } from "./stack.ts";
import { call, codeFromMailbox, expectStatus, login, PASSWORD, registerConfirmed, registerUnconfirmed, tokenFromMailbox, type Answer, type Session } from "./api.ts";

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
  const remove = (path: string, token: string, json?: unknown) => () => call(base, path, { method: "DELETE", json, token });
  const sidOf = (session: Session) => (JSON.parse(Buffer.from(session.access_token.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;
  /** A confirmed account that has asked to move to a new address; the mails of the change are in the mailbox. */
  const changing = async (what: string, n: number) => {
    const account = await confirmed(what, n);
    const next = email(`${what}-new`, n);
    await expectStatus(call(base, "/v1/email/change", { json: { new_email: next, password: PASSWORD }, token: account.session.access_token }), 202, "email change");
    return { ...account, next };
  };
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
      endpoint: "POST /v1/confirm (code)",
      status: 200,
      prepare: async (n) => {
        const address = email("confirm-code", n);
        await registerUnconfirmed(base, address);
        return post("/v1/confirm", { email: address, code: await codeFromMailbox(base, address, "confirm-email"), password: PASSWORD });
      },
    },
    {
      endpoint: "POST /v1/password/reset (code)",
      status: 200,
      prepare: async (n) => {
        const { address } = await confirmed("reset-code", n);
        await expectStatus(call(base, "/v1/password/forgot", { json: { email: address } }), 202, "forgot");
        const code = await codeFromMailbox(base, address, "reset-password");
        return post("/v1/password/reset", { email: address, code, password: `${PASSWORD} (new)` });
      },
    },
    {
      endpoint: "POST /v1/password/reset (wrong code, any address)",
      status: 400,
      prepare: async (n) => post("/v1/password/reset", { email: email("wrong-code", n), code: "000000", password: `${PASSWORD} (new)` }),
    },
    {
      endpoint: "POST /v1/password/change",
      status: 200,
      prepare: async (n) => {
        const { session } = await confirmed("change", n);
        return post("/v1/password/change", { current_password: PASSWORD, new_password: `${PASSWORD} (new)` }, session.access_token);
      },
    },
    {
      endpoint: "POST /v1/email/change",
      status: 202,
      prepare: async (n) => post("/v1/email/change", { new_email: email("email-change-to", n), password: PASSWORD }, (await confirmed("email-change", n)).session.access_token),
    },
    {
      endpoint: "POST /v1/email/change (taken address)",
      status: 202,
      prepare: async (n) => {
        const holder = await confirmed("holder", n);
        return post("/v1/email/change", { new_email: holder.address, password: PASSWORD }, (await confirmed("taker", n)).session.access_token);
      },
    },
    {
      endpoint: "POST /v1/email/change/confirm",
      status: 200,
      prepare: async (n) => {
        const { next } = await changing("change-confirm", n);
        return post("/v1/email/change/confirm", { token: await tokenFromMailbox(base, next, "email-change-confirm") });
      },
    },
    {
      endpoint: "POST /v1/email/change/revert",
      status: 200,
      prepare: async (n) => {
        const { address } = await changing("change-revert", n);
        return post("/v1/email/change/revert", { token: await tokenFromMailbox(base, address, "email-change-requested") });
      },
    },
    {
      endpoint: "GET /v1/sessions",
      status: 200,
      prepare: async (n) => get("/v1/sessions", (await confirmed("sessions", n)).session.access_token),
    },
    {
      endpoint: "DELETE /v1/sessions/:id",
      status: 204,
      prepare: async (n) => {
        const { address, session } = await confirmed("end-session", n);
        return remove(`/v1/sessions/${sidOf(await login(base, address))}`, session.access_token);
      },
    },
    {
      endpoint: "GET /v1/me/export",
      status: 200,
      prepare: async (n) => get("/v1/me/export", (await confirmed("export", n)).session.access_token),
    },
    {
      endpoint: "DELETE /v1/me",
      status: 204,
      prepare: async (n) => remove("/v1/me", (await confirmed("delete", n)).session.access_token, { password: PASSWORD }),
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
