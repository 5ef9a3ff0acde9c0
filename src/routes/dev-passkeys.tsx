import { Hono } from "hono";
import { raw } from "hono/html";
import type { AppEnv } from "../deps.ts";
import { pageHeaders } from "./pages/layout.tsx";

// Development only (mounted under /dev, loopback Host only): a bare page that drives the passkey
// ceremonies in a real browser, for `npm run test:browser` and for trying passkeys by hand. Open it
// at an origin under WEBAUTHN_RP_ID, e.g. WEBAUTHN_RP_ID=localhost PUBLIC_URL=http://localhost:8787
// npm start, then http://localhost:8787/dev/passkeys. The access token lives in this page's memory.

const SCRIPT = `
const $ = (id) => document.getElementById(id);
let accessToken = null;
function show(text, ok) { $("status").textContent = text; $("status").className = ok ? "ok" : "error"; $("status").dataset.state = "done"; }
async function post(path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = "Bearer " + token;
  const res = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || ("HTTP " + res.status));
  return data;
}
async function signedIn(session) {
  accessToken = session.access_token;
  const me = await (await fetch("/v1/me", { headers: { authorization: "Bearer " + accessToken } })).json();
  $("amr").textContent = JSON.stringify(me.session.amr);
  show("Signed in as " + me.user.email + ".", true);
}
async function getAssertion(options) {
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  return credential.toJSON();
}
function run(handler) {
  return async (event) => {
    event.preventDefault();
    $("status").textContent = "…"; $("status").className = ""; $("status").dataset.state = "busy";
    try { await handler(); } catch (err) { show(err.message || String(err), false); }
  };
}
$("login").addEventListener("click", run(async () => {
  const answer = await post("/v1/login", { email: $("email").value, password: $("password").value });
  if (answer.session) return signedIn(answer.session);
  if (!answer.mfa_required || !answer.methods.includes("passkey")) throw new Error("This page finishes logins with a passkey only.");
  const done = await post("/v1/login/mfa", { mfa_token: answer.mfa_token, passkey: await getAssertion(answer.passkey_options) });
  await signedIn(done.session);
}));
$("add-passkey").addEventListener("click", run(async () => {
  if (!accessToken) throw new Error("Sign in first.");
  const { options } = await post("/v1/mfa/passkeys/options", { password: $("password").value }, accessToken);
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
  await post("/v1/mfa/passkeys", { passkey: credential.toJSON(), name: "This browser" }, accessToken);
  show("Passkey added.", true);
}));
$("passkey-login").addEventListener("click", run(async () => {
  const { options } = await post("/v1/login/passkey/options", {});
  const done = await post("/v1/login/passkey", { passkey: await getAssertion(options) });
  await signedIn(done.session);
}));
$("logout").addEventListener("click", run(async () => {
  if (accessToken) await post("/v1/logout", {}, accessToken);
  accessToken = null;
  $("amr").textContent = "";
  show("Signed out.", true);
}));`;

// GET /dev/passkeys
export const devPasskeyPage = new Hono<AppEnv>().use(pageHeaders).get("/", (c) => {
  const nonce = c.var.secureHeadersNonce!;
  return c.html(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Passkeys · {c.var.deps.config.appName} (development)</title>
        <style nonce={nonce}>{raw("body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}input{display:block;width:100%;margin:.25rem 0 .75rem}button{margin:.25rem .25rem 0 0}.error{color:#b42318}.ok{color:#067647}")}</style>
      </head>
      <body>
        <h1>Passkeys (development)</h1>
        <p>Relying party: {c.var.deps.config.webauthnRpId ?? "none — set WEBAUTHN_RP_ID"}</p>
        <form>
          <label for="email">Email</label>
          <input id="email" type="email" autocomplete="username webauthn" />
          <label for="password">Password</label>
          <input id="password" type="password" autocomplete="current-password" />
          <button id="login">Log in (password, then passkey if asked)</button>
          <button id="add-passkey">Add a passkey</button>
          <button id="passkey-login">Sign in with a passkey</button>
          <button id="logout">Log out</button>
        </form>
        <p id="status" role="status"></p>
        <p>amr: <code id="amr"></code></p>
        <script nonce={nonce}>{raw(SCRIPT)}</script>
      </body>
    </html>,
  );
});
