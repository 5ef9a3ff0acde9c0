import { Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { CodeInput, Mark, Notice, Page, pageHeaders, View } from "./layout.tsx";

// The confirmation mail's link: the person types the password they registered with (it says which
// registration is theirs), or the address, the code and the password on another device.
const SCRIPT = `
const start = document.getElementById("confirm");
const byCode = document.getElementById("confirm-code");
const resendForms = [document.getElementById("resend"), document.getElementById("resend-expired")];
show(token ? "start" : "code");
function answered({ ok, data }, form) {
  if (ok) show("done");
  else if (isDeadLink(data)) showDeadLink(data);
  else say(form, "error", errorText(data));
}
onSubmit(start, async (form) => answered(await post("/v1/confirm", { token, password: form.password.value }), form));
onSubmit(byCode, async (form) =>
  answered(await post("/v1/confirm", { email: form.email.value.trim(), code: form.code.value.trim(), password: form.password.value }), form));
for (const resend of resendForms) {
  onSubmit(resend, async (form) => {
    const { ok, data } = await post("/v1/confirm/resend", { email: form.email.value.trim() });
    if (!ok) return say(form, "error", errorText(data));
    form.querySelector(".fields").hidden = true;
    say(form, "ok", data.message);
  });
}`;

/** Asks for a new confirmation mail (POST /v1/confirm/resend). */
function ResendForm({ id }: { id: string }) {
  return (
    <form id={id}>
      <div class="fields">
        <label for={`${id}-email`}>Email address</label>
        <input id={`${id}-email`} name="email" type="email" autocomplete="email" maxlength={254} required />
        <button class="button" type="submit" data-busy="Sending…">
          Send me a new link
        </button>
      </div>
      <Notice />
    </form>
  );
}

// GET /confirm
export const confirmPage = new Hono<AppEnv>().use(pageHeaders).get("/", (c) => {
  const config = c.var.deps.config;
  return c.html(
    <Page config={config} nonce={c.var.secureHeadersNonce!} title="Confirm your email address" script={SCRIPT}>
      <View name="start">
        <h1>Confirm your email address</h1>
        <p class="muted">To finish signing up, type the password you chose when you registered.</p>
        <form id="confirm">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" maxlength={256} required />
          <button id="submit" class="button" type="submit" data-busy="Confirming…">Confirm my email address</button>
          <Notice />
        </form>
        <button class="switch" type="button" data-show="code">Enter the code from the email instead</button>
      </View>
      <View name="code">
        <h1>Enter your code</h1>
        <p class="muted">Type your email address, the 6-digit code from the email we sent you, and the password you chose.</p>
        <form id="confirm-code">
          <label for="code-email">Email address</label>
          <input id="code-email" name="email" type="email" autocomplete="email" maxlength={254} required />
          <CodeInput id="code" />
          <label for="code-password">Password</label>
          <input id="code-password" name="password" type="password" autocomplete="current-password" maxlength={256} required />
          <button class="button" type="submit" data-busy="Confirming…">Confirm my email address</button>
          <Notice />
        </form>
        <button class="switch" type="button" data-show="resend">No code? Send me a new email</button>
      </View>
      <View name="resend">
        <h1>Get a new confirmation email</h1>
        <p class="muted">Enter the address you registered with. If it is waiting for confirmation, a new link and code are on their way.</p>
        <ResendForm id="resend" />
        <button class="switch" type="button" data-show="code">I have a code</button>
      </View>
      <View name="done">
        <Mark kind="ok" />
        <h1>Your email address is confirmed</h1>
        <p>You are signed up. Continue to {config.appName} and log in with your email address and password.</p>
        <a class="button" href={config.loginUrl}>
          Continue to {config.appName}
        </a>
      </View>
      <View name="expired">
        <Mark kind="error" />
        <h1>This link no longer works</h1>
        <p class="reason">This link is incomplete. Open it from the email again.</p>
        <p class="muted">Confirmation links work once and expire after a while. Enter your email address and we will send you a new one.</p>
        <ResendForm id="resend-expired" />
      </View>
    </Page>,
  );
});
