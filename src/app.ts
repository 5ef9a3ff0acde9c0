// hono/quick: its LinearRouter needs no build before the first match, where the default router
// compiles every route of the app into one pattern on the first request (4 ms of a fresh isolate's
// first request here); matching a request against our few dozen routes costs next to nothing more.
import { Hono } from "hono/quick";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { DrizzleQueryError } from "drizzle-orm/errors";
import type { AppEnv, Deps } from "./deps.ts";
import { requireApiKey } from "./http/api-key.ts";
import { requireJsonBody } from "./http/guards.ts";
import { limitClientIp } from "./http/ip-budget.ts";
import { notFoundOrWrongMethod, routeMethods } from "./http/not-found.ts";
import { AppError, causes, ERRORS, errorBody } from "./lib/errors.ts";
import { logEvent } from "./lib/log.ts";
import { docsRoutes, openApiRoutes } from "./contract/serve.ts";
import { adminKeyRoutes } from "./routes/admin-keys.ts";
import { adminUserRoutes } from "./routes/admin-users.ts";
import { adminWebhookRoutes } from "./routes/admin-webhooks.ts";
import { benchRoutes, plainBenchRoutes } from "./routes/bench.ts";
import { devHomeRoutes, devRoutes } from "./routes/dev.tsx";
import { exampleRoutes } from "./routes/example.ts";
import { healthRoutes } from "./routes/health.ts";
import { emailChangeRoutes } from "./routes/email-change.ts";
import { loginSecondStepRoutes } from "./routes/login-second-step.ts";
import { meRoutes } from "./routes/me.ts";
import { mfaRoutes } from "./routes/mfa.ts";
import { sessionsRoutes } from "./routes/sessions.ts";
import { emailChangePages } from "./routes/pages/email-change.tsx";
import { resetPage } from "./routes/pages/password.tsx";
import { confirmPage } from "./routes/pages/sign-up.tsx";
import { passwordRoutes } from "./routes/password.ts";
import { loginRoutes, logoutRoutes, tokenRoutes } from "./routes/session.ts";
import { confirmRoutes, registerRoutes } from "./routes/sign-up.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { wellKnownRoutes } from "./routes/well-known.ts";

// The map of the service: every path is mounted here, by its prefix, from the file that handles it.
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();

  // The bench's yardstick, registered before every middleware so none of it runs: what a Hono route
  // costs in this Worker with nothing of ours around it (npm run bench compares the app's floor to it).
  if (deps.config.benchRoutes) app.route("/bench/plain", plainBenchRoutes); // GET

  // Cloudflare's ray id when there is one, so our logs and Cloudflare's line up; never the client's.
  app.use(requestId({ headerName: "", generator: (c) => c.req.header("cf-ray")?.slice(0, 64) ?? crypto.randomUUID() }));
  // No log line per request: Workers observability (wrangler.toml) records every invocation with its
  // method, URL, status, duration and colo, and Cloudflare's ray id is our request id. What the app
  // logs is what the platform cannot know: failures with their request id, security events, mail
  // that could not be delivered (README, "Logs").
  app.use(async (c, next) => {
    const requestId = c.var.requestId;
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
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      maxAge: 600,
    }),
  );
  app.use("/v1/*", limitClientIp);
  app.use("/v1/*", requireJsonBody);
  // The admin API is for servers: no CORS, a key on every request, JSON bodies, nothing cached.
  app.use("/admin/v1/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.use("/admin/v1/*", requireApiKey);
  app.use("/admin/v1/*", requireJsonBody);

  // One chain, so the app's type carries every route (AppType, for hono/client).
  const api = app
    .route("/health", healthRoutes()) //              GET
    .route("/v1/register", registerRoutes) //        POST
    .route("/v1/confirm", confirmRoutes) //          POST /, POST /resend
    .route("/v1/login", loginRoutes) //              POST
    .route("/v1/login", loginSecondStepRoutes) //    POST /mfa, /passkey/options, /passkey
    .route("/v1/token", tokenRoutes) //              POST /refresh
    .route("/v1/logout", logoutRoutes) //            POST
    .route("/v1/me", meRoutes) //                    GET /, GET /events, GET /export, DELETE /
    .route("/v1/sessions", sessionsRoutes) //        GET /, DELETE /:id
    .route("/v1/email/change", emailChangeRoutes) // POST /, POST /confirm, POST /revert
    .route("/v1/password", passwordRoutes) //        POST /forgot, /reset, /change
    .route("/v1/mfa", mfaRoutes) //                  GET /; POST /totp/enroll, /totp/activate, /passkeys/options,
  //                                                     /passkeys, /passkeys/challenge, /remove, /recovery-codes
    .route("/.well-known", wellKnownRoutes) //       GET /jwks.json
    .route("/admin/v1/users", adminUserRoutes) //    GET /, GET|PATCH|DELETE /:id, /:id/sessions, /:id/events, /:id/suppression, POST /:id/mfa/reset
    .route("/admin/v1/keys", adminKeyRoutes) //      POST /, GET /, DELETE /:id
    .route("/admin/v1/webhooks/endpoints", adminWebhookRoutes) // GET|POST /, GET|PATCH|DELETE /:id, POST /:id/rotate-secret,
  //                                                     GET /:id/messages, /:id/messages/:messageId/attempts; POST /:id/messages/:messageId/replay, /:id/replay
    .route("/confirm", confirmPage) //               GET: hosted pages for the mailed links
    .route("/reset", resetPage) //                   GET
    .route("/email", emailChangePages) //            GET /confirm, /revert
    .route("/openapi.json", openApiRoutes) //       GET: the OpenAPI 3.1 document (src/contract/)
    .route("/docs", docsRoutes); //                 GET /, /scalar.js: the API reference page
  if (deps.config.environment === "development") {
    app.route("/dev", devRoutes); //                   GET /mailbox(.json), /mailbox/:id.html, /emails(/:template), /webhooks(.json)
    app.route("/example", exampleRoutes); //           GET: the example SPA
    // GET /: LOGIN_URL's default; links the mailbox, the previews and /docs, /example where they exist.
    app.route("/", devHomeRoutes((path) => routeMethods(app, path).includes("GET")));
  }
  // Without a secret nothing could be verified: the endpoint does not exist (404).
  if (deps.config.resendWebhookSecret) app.route("/webhooks", webhookRoutes); // POST /resend
  if (deps.config.benchRoutes) app.route("/bench", benchRoutes); // GET /bare, /hash, /db

  app.notFound(notFoundOrWrongMethod(app));
  app.onError((err, c) => {
    const requestId = c.var.requestId ?? crypto.randomUUID();
    if (err instanceof AppError) {
      // A 5xx the client may quote to us (db_unavailable, bad_environment): its request id, so the
      // invocation can be found. 4xx answers are the API working; security ones are audit rows.
      if (err.status >= 500) logEvent("request_failed", { requestId, code: err.code, method: c.req.method, route: c.req.routePath });
      for (const [name, value] of Object.entries(err.options.headers ?? {})) c.header(name, value);
      return c.json(errorBody(err.code, err.message, requestId, err.options.details), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 413 ? "payload_too_large" : err.status === 405 ? "method_not_allowed" : "validation_failed";
      const status = err.status === 413 || err.status === 405 ? err.status : 400;
      return c.json(errorBody(code, ERRORS[code][1], requestId), status);
    }
    // Unknown errors are logged with their detail; the client only ever sees the generic shape.
    logEvent("unhandled_error", { requestId, method: c.req.method, route: c.req.routePath, error: describe(err) });
    return c.json(errorBody("internal_error", "Something went wrong on our side.", requestId), 500);
  });

  return api;
}

/** The app's routes as types: `hc<AppType>(url)` from hono/client gives typed calls. */
export type AppType = ReturnType<typeof createApp>;

// A failed query's message lists its parameters (addresses, token hashes): name every wrapper, and
// log only the innermost message, never drizzle's own.
function describe(err: unknown): string {
  const chain = [...causes(err)];
  const inner = chain.at(-1);
  const names = chain.map((e) => (e instanceof Error ? e.name : typeof e)).join(" <- ");
  const message = inner instanceof DrizzleQueryError ? "(query withheld)" : inner instanceof Error ? inner.message : String(inner);
  return `${names}: ${message}`;
}
