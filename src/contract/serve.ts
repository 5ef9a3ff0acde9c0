import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { secureHeaders, NONCE } from "hono/secure-headers";
import type { AppEnv } from "../deps.ts";
import { buildOpenApiDocument } from "./openapi.ts";

// GET /openapi.json and GET /docs (Scalar's API reference).
//
// Scalar's page normally loads its script from a CDN; ours loads the standalone bundle from the npm
// package (@scalar/api-reference) on this origin instead, so the page makes no third-party request:
// /docs/scalar.js is a static asset (wrangler.toml [assets], written by tools/build-assets.ts), not
// part of the Worker.
// CSP: scripts from this origin plus the page's one inline script (by nonce), fetches to this origin
// only. Styles: Scalar's Vue components write style attributes and inject <style> elements at run
// time, which no nonce can cover, so style-src allows 'unsafe-inline' — styles cannot run code.
// Scalar's default web fonts (fonts.scalar.com) are turned off.

const docsHeaders = secureHeaders({
  referrerPolicy: "no-referrer",
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'", NONCE],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
});

const reference = Scalar({ url: "/openapi.json", cdn: "/docs/scalar.js", pageTitle: "edge-auth API", withDefaultFonts: false, hideClientButton: true });

export const openApiRoutes = new Hono<AppEnv>().get("/", (c) => c.json(buildOpenApiDocument({ serverUrl: c.var.deps.config.publicUrl })));

export const docsRoutes = new Hono<AppEnv>()
  .get("/", docsHeaders, async (c, next) => {
    // Scalar's handler is typed for hono's default Env; it reads nothing of ours.
    const page = (await reference(c as never, next)) as Response;
    // Scalar writes its two <script> tags (the bundle, its configuration); the nonce admits them.
    return c.html((await page.text()).replace(/<script(?=[\s>])/g, `<script nonce="${c.var.secureHeadersNonce}"`));
  });
