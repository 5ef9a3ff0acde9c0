import { Hono } from "hono";
import type { AppEnv } from "../../deps.ts";
import { CodeInput, Mark, Notice, Page, pageHeaders, View } from "./layout.tsx";

// The reset mail's link (choose a new password), and without a token the "forgot password" page
// that asks for the address; the mail's code works on another device.
const SCRIPT = `
const request = document.getElementById("request");
const choose = document.getElementById("choose");
const byCode = document.getElementById("reset-code");
const renew = document.getElementById("renew");
show(token ? "choose" : "request");
function matching(form) {
  if (form.password.value === form.repeat.value) return true;
  say(form, "error", "The two passwords do not match.");
  return false;
}
function answered({ ok, data }, form) {
  if (ok) show("done");
  else if (isDeadLink(data)) showDeadLink(data);
  else say(form, "error", errorText(data));
}
onSubmit(choose, async (form) => {
  if (matching(form)) answered(await post("/v1/password/reset", { token, password: form.password.value }), form);
});
onSubmit(byCode, async (form) => {
  if (matching(form)) {
    const body = { email: form.email.value.trim(), code: form.code.value.trim(), password: form.password.value };
    answered(await post("/v1/password/reset", body), form);
  }
});
onSubmit(request, async (form) => {
  const { ok, data } = await post("/v1/password/forgot", { email: form.email.value.trim() });
  if (!ok) return say(form, "error", errorText(data));
  byCode.email.value = form.email.value.trim();
  document.getElementById("sent-message").textContent = data.message;
  show("sent");
});
onSubmit(renew, async (form) => {
  const { ok, data } = await post("/v1/password/forgot", { email: form.email.value.trim() });
  if (!ok) return say(form, "error", errorText(data));
  form.querySelector(".fields").hidden = true;
  say(form, "ok", data.message);
});`;

function NewPassword({ prefix, minLength }: { prefix: string; minLength: number }) {
  return (
    <>
      <label for={`${prefix}password`}>New password</label>
      <input id={`${prefix}password`} name="password" type="password" autocomplete="new-password" minlength={minLength} maxlength={256} required />
      <label for={`${prefix}repeat`}>Repeat the new password</label>
      <input id={`${prefix}repeat`} name="repeat" type="password" autocomplete="new-password" minlength={minLength} maxlength={256} required />
    </>
  );
}

// GET /reset
export const resetPage = new Hono<AppEnv>().use(pageHeaders).get("/", (c) => {
  const config = c.var.deps.config;
  const ttl = config.resetTokenTtl;
  const lifetime = ttl < 120 ? `${ttl} seconds` : `${Math.round(ttl / 60)} minutes`;
  return c.html(
    <Page config={config} nonce={c.var.secureHeadersNonce!} title="Reset your password" script={SCRIPT}>
      <View name="request">
        <h1>Reset your password</h1>
        <p class="muted">Enter your account's email address. We will send you a link, and a code, to choose a new password.</p>
        <form id="request">
          <label for="email">Email address</label>
          <input id="email" name="email" type="email" autocomplete="email" maxlength={254} required />
          <button class="button" type="submit" data-busy="Sending…">Send me a reset link</button>
          <Notice />
        </form>
        <button class="switch" type="button" data-show="code">I already have a code</button>
      </View>
      <View name="sent">
        <Mark kind="ok" />
        <h1>Check your email</h1>
        <p id="sent-message"></p>
        <p class="muted">Follow the link in it, or enter its code here. Either works once, for {lifetime}.</p>
        <button class="switch" type="button" data-show="code">Enter the code</button>
      </View>
      <View name="choose">
        <h1>Choose a new password</h1>
        <p class="muted">At least {config.passwordMinLength} characters. Every session will be signed out.</p>
        <form id="choose">
          <NewPassword prefix="" minLength={config.passwordMinLength} />
          <button id="submit" class="button" type="submit" data-busy="Saving…">Set new password</button>
          <Notice />
        </form>
        <button class="switch" type="button" data-show="code">Enter the code from the email instead</button>
      </View>
      <View name="code">
        <h1>Enter your code</h1>
        <p class="muted">Type your email address, the 6-digit code from the reset email, and a new password.</p>
        <form id="reset-code">
          <label for="code-email">Email address</label>
          <input id="code-email" name="email" type="email" autocomplete="email" maxlength={254} required />
          <CodeInput id="code" />
          <NewPassword prefix="code-" minLength={config.passwordMinLength} />
          <button class="button" type="submit" data-busy="Saving…">Set new password</button>
          <Notice />
        </form>
        <button class="switch" type="button" data-show="request">No code? Send me a new email</button>
      </View>
      <View name="done">
        <Mark kind="ok" />
        <h1>Your password is changed</h1>
        <p>Every session was signed out. Log in with your new password.</p>
        <a class="button" href={config.loginUrl}>
          Log in to {config.appName}
        </a>
      </View>
      <View name="expired">
        <Mark kind="error" />
        <h1>This link no longer works</h1>
        <p class="reason">This link is incomplete. Open it from the email again.</p>
        <p class="muted">Reset links work once, for {lifetime}. Enter your email address and we will send you a new one.</p>
        <form id="renew">
          <div class="fields">
            <label for="renew-email">Email address</label>
            <input id="renew-email" name="email" type="email" autocomplete="email" maxlength={254} required />
            <button class="button" type="submit" data-busy="Sending…">Send me a new link</button>
          </div>
          <Notice />
        </form>
      </View>
    </Page>,
  );
});
