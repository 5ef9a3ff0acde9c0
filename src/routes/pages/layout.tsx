import { raw } from "hono/html";
import { createMiddleware } from "hono/factory";
import type { Child } from "hono/jsx";
import { NONCE, secureHeaders } from "hono/secure-headers";
import type { Config } from "../../config.ts";
import type { AppEnv } from "../../deps.ts";
import { pageStyle } from "./style.ts";

// The frame of every hosted page: the app's name (or logo), one card, a way back to the app. The
// pages are for the links in mails; the token travels in the URL fragment, which browsers never send
// to a server or put in a Referer, and the page's script posts it only when the person clicks.

// What every page's script starts with. Views are <section data-view>; show() picks one.
const SHARED_SCRIPT = `
const token = new URLSearchParams(location.hash.slice(1)).get("token");
// The token stays in this page's memory only: out of the address bar, history and bookmarks.
if (location.hash) history.replaceState(null, "", location.pathname);
const appName = document.body.dataset.app;
function show(name) {
  let shown = null;
  for (const el of document.querySelectorAll("[data-view]")) {
    el.hidden = el.dataset.view !== name;
    if (!el.hidden) shown = el;
  }
  const heading = shown && shown.querySelector("h1");
  if (heading) document.title = heading.textContent + " · " + appName;
  return shown;
}
for (const el of document.querySelectorAll("[data-show]")) {
  el.addEventListener("click", () => {
    const view = show(el.dataset.show);
    const field = view && view.querySelector("input");
    if (field) field.focus();
  });
}
async function post(path, body) {
  try {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { ok: res.ok, data: await res.json().catch(() => ({})) };
  } catch {
    return { ok: false, data: { error: { code: "network", message: "We could not reach the server. Check your connection and try again." } } };
  }
}
function errorText(data) {
  const e = data && data.error;
  if (!e) return "Something went wrong. Try again.";
  const details = (e.details || []).map((d) => d.message).join(" ");
  return details ? e.message + " (" + details + ")" : e.message;
}
// A link that was used already or has expired leads to the page's "expired" view, which says why
// and offers a new link.
const isDeadLink = (data) => Boolean(data && data.error && data.error.code === "invalid_token");
function showDeadLink(data) {
  const view = show("expired");
  const reason = view && view.querySelector(".reason");
  if (reason && data && data.error) reason.textContent = data.error.message;
}
function say(form, kind, text) {
  const box = form.querySelector(".notice");
  box.className = "notice " + kind;
  box.textContent = text;
}
// Nothing is posted but from a person's submit: a link scanner that loads the page, even one that
// runs this script, changes nothing. While the request runs the button says so and cannot be pressed.
function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const label = button.textContent;
    say(form, "", "");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = button.dataset.busy || label;
    try {
      await handler(form);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    }
  });
}
`;

function Brand({ config }: { config: Config }) {
  return (
    <p class="brand">
      {config.logoUrl ? <img src={config.logoUrl} alt={config.appName} /> : config.appName}
    </p>
  );
}

export function Page(props: { config: Config; nonce: string; title: string; script: string; children?: Child }) {
  const { config } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · ${config.appName}`}</title>
        <style nonce={props.nonce}>{raw(pageStyle(config.brandColor))}</style>
      </head>
      <body data-app={config.appName}>
        <main>
          <div class="card">
            <Brand config={config} />
            <noscript>
              <p>This page needs JavaScript to send what you type. Turn it on and reload the page.</p>
            </noscript>
            {props.children}
          </div>
        </main>
        <footer>
          <a href={config.loginUrl}>← Back to {config.appName}</a>
        </footer>
        <script nonce={props.nonce}>{raw(`${SHARED_SCRIPT}\n${props.script}`)}</script>
      </body>
    </html>
  );
}

/** A view of a page: hidden until the script shows it. */
export function View(props: { name: string; children?: Child }) {
  return (
    <section data-view={props.name} hidden>
      {props.children}
    </section>
  );
}

/** The big ✓ or ! at the top of a success or failure view. */
export function Mark({ kind }: { kind: "ok" | "error" }) {
  return (
    <div class={`mark ${kind}`} aria-hidden="true">
      {kind === "ok" ? "✓" : "!"}
    </div>
  );
}

/** The message box of a form (errors, and "on its way" answers), read out when it changes. */
export function Notice() {
  return <p class="notice" role="status" aria-live="polite"></p>;
}

export function CodeInput({ id }: { id: string }) {
  return (
    <>
      <label for={id}>6-digit code from the email</label>
      <input id={id} name="code" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength={6} required />
    </>
  );
}

// A nonce per response (hono's secure-headers) admits the page's own inline style and script and
// nothing else; the page talks only to this origin and cannot be framed. Images only from
// LOGO_URL's origin, when it is set.
export const pageHeaders = createMiddleware<AppEnv>(async (c, next) => {
  const logo = c.var.deps.config.logoUrl;
  await secureHeaders({
    referrerPolicy: "no-referrer",
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      imgSrc: logo ? [new URL(logo).origin] : ["'none'"],
      connectSrc: ["'self'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  })(c, next);
  c.header("Cache-Control", "no-store");
});
