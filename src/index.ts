import { ConfigError, parseConfig } from "./config.ts";
import { createApp } from "./app.ts";
import { buildDeps, readBindings } from "./deps.ts";
import type { Deps } from "./deps.ts";
import { errorBody } from "./lib/errors.ts";
import { CronBudget } from "./lib/cron-budget.ts";
import { logEvent } from "./lib/log.ts";
import { deliverDueMail } from "./mail/outbox.ts";
import { drainDueWebhooks } from "./webhooks/deliver.ts";
import { pruneExpiredCounters } from "./limits/prune.ts";
import { pruneExpiredRows } from "./db/retention.ts";

/** How long a cron run keeps starting new steps (mail batches, delete chunks). */
const CRON_WALL_MS = 45_000;

type Service = { deps: Deps; app: ReturnType<typeof createApp> };
// Per isolate: config is validated and keys are imported once, not per request. Rebuilt only if the
// runtime hands over a different env object; a failed build is retried on the next request.
let built: { env: unknown; service: Promise<Service> } | undefined;

function getService(env: Record<string, unknown>): Promise<Service> {
  if (built?.env !== env) {
    const service = (async () => {
      const deps = await buildDeps(parseConfig(env), readBindings(env));
      return { deps, app: createApp(deps) };
    })();
    built = { env, service };
    service.catch(() => {
      if (built?.service === service) built = undefined;
    });
  }
  return built.service;
}

function badEnvironment(err: unknown): Response {
  const requestId = crypto.randomUUID();
  const setting = err instanceof ConfigError ? err.setting : "environment";
  const problem = err instanceof ConfigError ? err.problem : "could not be loaded";
  logEvent("bad_environment", { requestId, setting, problem });
  const message = `The service is misconfigured: ${setting} ${problem}.`;
  return Response.json(errorBody("bad_environment", message, requestId), { status: 500 });
}

export default {
  async fetch(request, env, ctx) {
    let service: Service;
    try {
      service = await getService(env);
    } catch (err) {
      return badEnvironment(err);
    }
    return service.app.fetch(request, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    const { deps } = await getService(env);
    const now = deps.clock.now();
    // Each task gets its share of the run's subrequests (CRON_SUBREQUESTS; 50 on Workers Free), and
    // all stop starting new steps after CRON_WALL_MS. What a run leaves is due at the next one.
    const limit = deps.config.cronSubrequests;
    const endsAt = Date.now() + CRON_WALL_MS;
    const share = (fraction: number) => new CronBudget(Math.floor(limit * fraction), endsAt);
    ctx.waitUntil(
      Promise.all([
        deliverDueMail(deps, share(0.5)),
        drainDueWebhooks(deps, share(0.2)),
        pruneExpiredRows(deps.db, now, share(0.2)),
        pruneExpiredCounters(deps.db, now, share(0.1)),
      ]),
    );
  },
} satisfies ExportedHandler<Record<string, unknown>>;
