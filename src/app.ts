import { Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { HTTPException } from "hono/http-exception";
import { DrizzleQueryError } from "drizzle-orm/errors";
import type { AppEnv, Deps } from "./http/context.ts";
import { requireJsonBody } from "./http/guards.ts";
import { limitClientIp } from "./http/ip-limit.ts";
import { AppError, errorBody } from "./lib/errors.ts";
import { logEvent } from "./lib/log.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { auditEventRoutes } from "./routes/audit-events.ts";
import { benchRoutes } from "./routes/bench.ts";
import { devRoutes } from "./routes/dev.tsx";
import { exampleRoutes } from "./routes/example.ts";
import { healthRoutes } from "./routes/health.ts";
import { pageRoutes } from "./routes/pages.tsx";
import { passwordRoutes } from "./routes/passwords.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { webhookRoutes } from "./routes/webhooks.ts";

export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const requestId = c.req.header("cf-ray")?.slice(0, 64) ?? crypto.randomUUID();
    const started = Date.now();
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.set("client", {
      ip: c.req.header("cf-connecting-ip") ?? null,
      userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
    });
    c.set("defer", (task) => {
      const run = () => task().catch((err) => logEvent("background_failed", { requestId, error: describe(err) }));
      if (deps.defer) deps.defer(run);
      else c.executionCtx.waitUntil(run());
    });
    await next();
    c.header("x-request-id", requestId);
    logEvent("request", {
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
      colo: (c.req.raw as { cf?: { colo?: string } }).cf?.colo ?? null,
    });
  });
  app.use(secureHeaders({ referrerPolicy: "no-referrer", crossOriginResourcePolicy: "cross-origin" }));
  // Outside CORS, so preflight answers carry it too.
  app.use("/v1/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.use(
    "/v1/*",
    cors({
      origin: (origin) => (deps.config.allowedOrigins.includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      maxAge: 600,
    }),
  );
  app.use("/v1/*", requireJsonBody);
  app.use("/v1/*", limitClientIp);

  app.route("/", healthRoutes());
  app.route("/", accountRoutes);
  app.route("/", sessionRoutes);
  app.route("/", auditEventRoutes);
  app.route("/", passwordRoutes);
  app.route("/", pageRoutes);
  if (deps.config.environment === "development") app.route("/", devRoutes);
  if (deps.config.environment === "development") app.route("/", exampleRoutes);
  // Without a secret nothing could be verified: the endpoint does not exist (404), see src/routes/webhooks.ts.
  if (deps.config.resendWebhookSecret) app.route("/", webhookRoutes);
  if (deps.config.benchRoutes) app.route("/", benchRoutes);

  app.notFound((c) => c.json(errorBody("not_found", "Not found.", c.get("requestId")), 404));
  app.onError((caught, c) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    // drizzle wraps what a single query's client call throws (e.g. the per-IP 429) in DrizzleQueryError.
    const err = caught instanceof DrizzleQueryError && caught.cause instanceof AppError ? caught.cause : caught;
    if (err instanceof AppError) {
      for (const [name, value] of Object.entries(err.options.headers ?? {})) c.header(name, value);
      return c.json(errorBody(err.code, err.message, requestId, err.options.details), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 413 ? "payload_too_large" : err.status === 405 ? "method_not_allowed" : "validation_failed";
      const status = err.status === 413 || err.status === 405 ? err.status : 400;
      return c.json(errorBody(code, code === "validation_failed" ? "The request is not valid." : "Request refused.", requestId), status);
    }
    // Unknown errors are logged with their detail; the client only ever sees the generic shape.
    logEvent("unhandled_error", { requestId, error: describe(err) });
    return c.json(errorBody("internal_error", "Something went wrong on our side.", requestId), 500);
  });

  return app;
}

function describe(err: unknown): string {
  // A failed query's message lists its parameters (addresses, token hashes): log the cause only.
  if (err instanceof DrizzleQueryError) return `DrizzleQueryError: ${err.cause ? describe(err.cause) : "no cause"}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
