import type { Client, InStatement, InArgs, TransactionMode } from "@libsql/client/web";
import type { MiddlewareHandler } from "hono";
import { drizzle } from "drizzle-orm/libsql/web";
import type { Db } from "../db/client.ts";
import * as schema from "../db/schema.ts";
import { rateLimited } from "../limits/counters.ts";
import { alignedWindowEnd, ipBudgetKeys, isBudgetExhausted, takeBudgetStatement } from "../limits/ip-budget.ts";
import { logEvent } from "../lib/log.ts";
import type { AppEnv } from "../deps.ts";

// Per client IP budget on every POST under /v1. The counter update leads the request's first
// database pipeline instead of making its own, so the limit adds no round trip (every endpoint
// stays within one read pipeline + one write batch). Over budget, that statement fails and the
// pipeline's transaction rolls back, so nothing the route sent with it takes effect; the route sees
// a 429. A POST that never reaches the database (refused as malformed, unauthorised, ...) costs us
// no database work and is not counted.
export const limitClientIp: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const deps = c.var.deps;
  const { config, clock } = deps;
  const now = clock.now();
  const window = { limit: config.ipRateLimit, windowMs: config.ipRateWindowSeconds * 1000 };
  // An IPv6 client also spends from its /48's budget, four times the size: a site that rotates
  // through its 65,536 /64s still gets only that.
  const gates = ipBudgetKeys(c.var.client.ip).map((key, i) => {
    const gate = takeBudgetStatement(deps.db, key, i === 0 ? window : { ...window, limit: window.limit * 4 }, now).toSQL();
    return { sql: gate.sql, args: gate.params as InArgs };
  });
  const refuse = () => {
    logEvent("rate_limited", { requestId: c.var.requestId, scope: "ip" });
    return rateLimited(alignedWindowEnd(now, window.windowMs) - now);
  };
  c.set("deps", { ...deps, db: leadFirstPipeline(deps.db, gates, refuse) });
  await next();
};

// A per-request view of the database whose first execute or batch carries `lead` in front, in one
// transaction. Later calls (the write batch, background mail delivery) go through unchanged.
function leadFirstPipeline(db: Db, lead: InStatement[], refuse: () => Error): Db {
  const client = db.$client;
  let pending: InStatement[] | null = lead;
  const take = () => {
    const statement = pending;
    pending = null;
    return statement;
  };
  const translate = (err: unknown) => (isBudgetExhausted(err) ? refuse() : err);

  const execute = async (stmt: InStatement | string, args?: InArgs) => {
    const statement: InStatement = typeof stmt === "string" ? { sql: stmt, args: args ?? [] } : stmt;
    const first = take();
    if (!first) return client.execute(statement);
    const results = await client.batch([...first, statement], "deferred").catch((err: unknown) => Promise.reject(translate(err)));
    return results[first.length]!;
  };
  const batch = async (stmts: InStatement[], mode?: TransactionMode) => {
    const first = take();
    if (!first) return client.batch(stmts, mode);
    const results = await client.batch([...first, ...stmts], mode).catch((err: unknown) => Promise.reject(translate(err)));
    return results.slice(first.length);
  };
  const wrapped = new Proxy(client, {
    get(target, prop) {
      if (prop === "execute") return execute;
      if (prop === "batch") return batch;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Client;
  return drizzle(wrapped, { schema });
}
