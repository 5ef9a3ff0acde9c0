import type { Context, Hono } from "hono";
import type { AppEnv } from "../deps.ts";
import { errorBody } from "../lib/errors.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * The methods the app's routes answer at a path, asked of the app's own router, so no list is kept
 * by hand. Middleware (`use`, method ALL) is not a route; HEAD goes wherever GET does, as hono
 * answers HEAD with the GET route.
 */
export function routeMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = METHODS.filter((method) => app.router.match(method, path)[0].some(([[, route]]) => route.method === method));
  return methods.flatMap((method) => (method === "GET" ? ["GET", "HEAD"] : [method]));
}

// A path that exists for other methods answers 405 with Allow (a browser opening POST /v1/login);
// one that does not exist at all, 404. Both in the one error shape.
export function notFoundOrWrongMethod(app: Hono<AppEnv>) {
  return (c: Context<AppEnv>) => {
    const allowed = routeMethods(app, c.req.path);
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return c.json(errorBody("not_found", "Not found.", c.var.requestId), 404);
    }
    c.header("Allow", allowed.join(", "));
    const choice = allowed.length === 1 ? allowed[0] : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
    return c.json(errorBody("method_not_allowed", `Use ${choice} for this path.`, c.var.requestId), 405);
  };
}
