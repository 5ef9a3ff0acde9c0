/// <reference path="../../client/example/modules.d.ts" />
import { Hono } from "hono";
import type { AppEnv } from "../deps.ts";
import { loopbackOnly } from "./dev.tsx";
import appJs from "../../client/example/app.js";
import indexHtml from "../../client/example/index.html";
import styleCss from "../../client/example/style.css";
import sdkJs from "../../client/dist/edge-auth.js";

// The example single-page app (client/example/) and the browser SDK it loads (client/dist/, built by
// `npm run build:client`), as text modules (wrangler.toml [[rules]]). createApp mounts these only when
// ENVIRONMENT=development. /example/confirm is the same page, for CONFIRM_URL to point at.

// Scripts and styles from this origin only: no inline code, nothing from elsewhere.
const HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const JS = "text/javascript; charset=utf-8";

// GET /example, /example/confirm and the files the page loads (development only)
export const exampleRoutes = new Hono<AppEnv>()
  .use(loopbackOnly)
  .get("/", (c) => c.html(indexHtml, 200, HEADERS))
  .get("/confirm", (c) => c.html(indexHtml, 200, HEADERS))
  .get("/app.js", (c) => c.body(appJs, 200, { ...HEADERS, "Content-Type": JS }))
  .get("/edge-auth.js", (c) => c.body(sdkJs, 200, { ...HEADERS, "Content-Type": JS }))
  .get("/style.css", (c) => c.body(styleCss, 200, { ...HEADERS, "Content-Type": "text/css; charset=utf-8" }));
