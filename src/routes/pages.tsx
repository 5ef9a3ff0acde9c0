import { Hono } from "hono";
import { raw } from "hono/html";
import { createMiddleware } from "hono/factory";
import { NONCE, secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../deps.ts";

// Hosted pages for the links in mails. The token travels in the URL fragment, which browsers never
// send to a server or put in a Referer; the page's script reads it and posts it to the API.

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}#status{margin-top:1rem}.error{color:#b42318}.ok{color:#067647}`;

const SHARED_SCRIPT = `
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);
const status = document.getElementById("status");
function show(text, ok) { status.textContent = text; status.className = ok ? "ok" : "error"; }
async function post(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  return { ok: res.ok, data };
}
function errorText(data) {
  const e = data && data.error;
  if (!e) return "Something went wrong. Try again.";
  const details = (e.details || []).map((d) => d.message).join(" ");
  return details ? e.message + " " + details : e.message;
}`;

// Nothing is posted until the person types the password they registered with and clicks: a link
// scanner that opens the page (even one that runs its script) cannot use the token, and the
// password proves which registration of the address is being confirmed.
const CONFIRM_SCRIPT = `${SHARED_SCRIPT}
const form = document.getElementById("form");
if (!token) { form.hidden = true; show("This link is incomplete. Open the link from the email again.", false); }
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  form.submit.disabled = true;
  const { ok, data } = await post("/v1/confirm", { token, password: form.password.value });
  form.submit.disabled = false;
  if (ok) { form.hidden = true; show("Your email address is confirmed. You can close this page and log in.", true); }
  else show(errorText(data), false);
});`;

const RESET_SCRIPT = `${SHARED_SCRIPT}
const form = document.getElementById("form");
const request = document.getElementById("request");
// Without a token this is the "forgot password" page: ask for the address instead.
if (token) request.hidden = true; else form.hidden = true;
request.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { ok, data } = await post("/v1/password/forgot", { email: request.email.value });
  if (ok) { request.hidden = true; show(data.message, true); } else show(errorText(data), false);
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = form.password.value, repeat = form.repeat.value;
  if (password !== repeat) { show("The two passwords do not match.", false); return; }
  form.submit.disabled = true;
  const { ok, data } = await post("/v1/password/reset", { token, password });
  form.submit.disabled = false;
  if (ok) { form.hidden = true; show(data.message, true); } else show(errorText(data), false);
});`;

function Page(props: { title: string; nonce: string; script: string; children?: unknown }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title}</title>
        <style nonce={props.nonce}>{raw(STYLE)}</style>
      </head>
      <body>
        <h1>{props.title}</h1>
        {props.children}
        <p id="status" role="status" aria-live="polite"></p>
        <script nonce={props.nonce}>{raw(props.script)}</script>
      </body>
    </html>
  );
}

// A nonce per response (hono's secure-headers) admits the page's own inline style and script and
// nothing else; the page talks only to this origin and cannot be framed.
export const pageHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await secureHeaders({
    referrerPolicy: "no-referrer",
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      connectSrc: ["'self'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  })(c, next);
  c.header("Cache-Control", "no-store");
});

// GET /confirm
export const confirmPage = new Hono<AppEnv>().use(pageHeaders).get("/", (c) => {
  const nonce = c.var.secureHeadersNonce!;
  const title = `Confirm your email · ${c.var.deps.config.appName}`;
  return c.html(
    <Page title={title} nonce={nonce} script={CONFIRM_SCRIPT}>
      <form id="form">
        <p>To finish, type the password you chose when you signed up.</p>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" maxlength={256} required />
        <button id="submit" name="submit" type="submit">Confirm my email address</button>
      </form>
    </Page>,
  );
});

// GET /reset
export const resetPage = new Hono<AppEnv>().use(pageHeaders).get("/", (c) => {
  const nonce = c.var.secureHeadersNonce!;
  const title = `Choose a new password · ${c.var.deps.config.appName}`;
  return c.html(
    <Page title={title} nonce={nonce} script={RESET_SCRIPT}>
      <form id="request">
        <label for="email">Your email address</label>
        <input id="email" name="email" type="email" autocomplete="email" maxlength={254} required />
        <button type="submit">Send me a reset link</button>
      </form>
      <form id="form">
        <label for="password">New password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength={8} maxlength={256} required />
        <label for="repeat">Repeat the new password</label>
        <input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength={8} maxlength={256} required />
        <button id="submit" name="submit" type="submit">Set password</button>
      </form>
    </Page>,
  );
});
