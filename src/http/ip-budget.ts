import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../deps.ts";
import { rateLimited } from "../limits/counters.ts";
import { ipBudgetKeys } from "../limits/ip-budget.ts";
import { logEvent } from "../lib/log.ts";

/** The period of the IP_*_RATE_LIMITER bindings in wrangler.toml (Cloudflare allows 10 or 60). */
export const IP_BUDGET_PERIOD_SECONDS = 60;

// Per client IP budget on every POST and DELETE under /v1, by the Workers Rate Limiting binding:
// counted in memory at the Cloudflare location the client reaches, so it costs no database write
// and no round trip, and a refused request never reaches a handler (nothing it would change is
// touched). Every such request counts, malformed ones too. An IPv6 client also spends from its
// /48's budget.
export const limitClientIp: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "POST" && c.req.method !== "DELETE") return next();
  const { ipLimiters } = c.var.deps;
  const [own, site] = ipBudgetKeys(c.var.client.ip);
  const outcomes = await Promise.all([
    ipLimiters.client.limit({ key: own! }),
    ...(site ? [ipLimiters.site.limit({ key: site })] : []),
  ]);
  if (outcomes.some((outcome) => !outcome.success)) {
    logEvent("rate_limited", { requestId: c.var.requestId, scope: "ip" });
    throw rateLimited(IP_BUDGET_PERIOD_SECONDS * 1000);
  }
  await next();
};
