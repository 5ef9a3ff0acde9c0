// The example SPA: edge-auth's whole flow through the browser SDK, in plain JavaScript, no framework.
// `npm start` serves it at /example (development only). To get the confirmation links here rather than
// on the hosted /confirm page, start the service with
//   CONFIRM_URL='http://127.0.0.1:8787/example/confirm#token={token}' npm start
import { AuthError, createAuthClient } from "/example/edge-auth.js";

// The API is this page's origin here; a real app passes its edge-auth address (listed in ALLOWED_ORIGINS).
const client = createAuthClient({ baseUrl: location.origin });
// To try it from the browser's console: `client.session`, `await client.fetch("/v1/me")`.
window.client = client;

const $ = (id) => document.getElementById(id);

function show(text, ok) {
  $("status").textContent = text;
  $("status").className = ok ? "ok" : "error";
}

function explain(err) {
  if (!(err instanceof AuthError)) return "Could not reach the service. Try again.";
  return [err.message, ...err.details.map((detail) => detail.message)].join(" ");
}

function render(session) {
  $("loading").hidden = true;
  $("signed-in").hidden = !session;
  $("signed-out").hidden = Boolean(session);
  $("who").textContent = session ? session.user?.name || session.user?.email || "" : "";
  if (!session) $("me").textContent = "";
}

// Runs an action for a form or a button: no page load, the button disabled meanwhile, errors shown.
function handle(target, event, action) {
  target.addEventListener(event, async (e) => {
    e.preventDefault();
    const button = target instanceof HTMLFormElement ? target.querySelector("button") : target;
    button.disabled = true;
    try {
      await action(target instanceof HTMLFormElement ? new FormData(target) : null);
    } catch (err) {
      show(explain(err), false);
      if (err instanceof AuthError && err.code === "unlock_required") $("unlock").hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

// A pasted link or a bare token.
function tokenFrom(text) {
  const fragment = text.includes("#") ? text.slice(text.indexOf("#") + 1) : "";
  return new URLSearchParams(fragment).get("token") ?? text.trim();
}

async function confirm(token, password) {
  const session = await client.confirm(token, { password: password || undefined });
  $("confirm").reset();
  show(`Your email address is confirmed, ${session.user?.name || session.user?.email}. You are logged in.`, true);
}

handle($("register"), "submit", async (data) => {
  const email = data.get("email");
  await client.register({ name: data.get("name") || undefined, email, password: data.get("password") });
  $("register").reset();
  $("login-email").value = email;
  show(`Check ${email} for the confirmation link (in development: the dev mailbox).`, true);
});

handle($("confirm"), "submit", (data) => confirm(tokenFrom(data.get("token")), data.get("password")));

handle($("login"), "submit", async (data) => {
  await client.login({ email: data.get("email"), password: data.get("password"), unlockCode: data.get("unlock_code") || undefined });
  $("login").reset();
  $("unlock").hidden = true;
  show("You are logged in.", true);
});

handle($("call-me"), "click", async () => {
  const res = await client.fetch("/v1/me");
  $("me").textContent = `${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
});

handle($("logout"), "click", async () => {
  await client.logout();
  show("You are logged out (in every tab).", true);
});

handle($("logout-all"), "click", async () => {
  await client.logout({ all: true });
  show("You are logged out everywhere.", true);
});

// The confirmation link brings its token in the fragment, which never reaches a server; take it out
// of the address bar (and of the history) at once.
const linkToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (location.hash || location.pathname !== "/example") history.replaceState(null, "", "/example");

client.onChange(render);
await client.ready;
if (linkToken) {
  $("confirm-token").value = linkToken;
  if (client.hasVerifier) {
    // This tab registered: the PKCE verifier it kept is the proof, nothing to type.
    await confirm(linkToken).catch((err) => show(`${explain(err)} Type the password you registered with and confirm.`, false));
  } else {
    show("Type the password you registered with to confirm your email address.", true);
    $("confirm-password").focus();
  }
}
