import type { Context } from "hono";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { AppEnv } from "../deps.ts";

// Every development page: a whole document that fits a phone (long links and tokens wrap).
const DEV_STYLE = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;overflow-wrap:anywhere}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem}article{border-top:1px solid #ddd;padding:.75rem 0}
h1{font-size:1.6rem}article h2{font-size:1.05rem;margin:0}.meta{margin:.25rem 0;color:#555}li{margin:.2rem 0}`;

export function devPage(c: Context<AppEnv>, title: string, children: Child) {
  return c.html(
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>
            {title} · {c.var.deps.config.appName}
          </title>
          <style>{raw(DEV_STYLE)}</style>
        </head>
        <body>{children}</body>
      </html>
    </>,
  );
}

