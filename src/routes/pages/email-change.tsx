import { Hono } from "hono";
import { EMAIL_CHANGE_UNDO_HOURS } from "../../auth/email-change.ts";
import type { AppEnv } from "../../deps.ts";
import { CodeInput, Mark, Notice, Page, pageHeaders, View } from "./layout.tsx";

// The two links of an email change: the new address's (confirm it), the old address's (cancel it,
// or undo it for a while after it happened). Both post only when the person presses the button.

const CONFIRM_SCRIPT = `
const start = document.getElementById("email-confirm");
const byCode = document.getElementById("email-code");
show(token ? "start" : "code");
function answered({ ok, data }, form) {
  if (ok) {
    document.getElementById("new-address").textContent = data.email;
    show("done");
  } else if (isDeadLink(data)) showDeadLink(data);
  else say(form, "error", errorText(data));
}
onSubmit(start, async (form) => answered(await post("/v1/email/change/confirm", { token }), form));
onSubmit(byCode, async (form) =>
  answered(await post("/v1/email/change/confirm", { email: form.email.value.trim(), code: form.code.value.trim() }), form));`;

const REVERT_SCRIPT = `
const start = document.getElementById("revert");
show(token ? "start" : "expired");
onSubmit(start, async (form) => {
  const { ok, data } = await post("/v1/email/change/revert", { token });
  if (ok) {
    document.getElementById("done-title").textContent = data.reverted ? "Your address is restored" : "The change is cancelled";
    document.getElementById("done-message").textContent = data.message;
    show("done");
  } else if (isDeadLink(data)) showDeadLink(data);
  else say(form, "error", errorText(data));
});`;

// GET /email/confirm, GET /email/revert
export const emailChangePages = new Hono<AppEnv>()
  .use(pageHeaders)
  .get("/confirm", (c) => {
    const config = c.var.deps.config;
    return c.html(
      <Page config={config} nonce={c.var.secureHeadersNonce!} title="Confirm your new email address" script={CONFIRM_SCRIPT}>
        <View name="start">
          <h1>Confirm your new email address</h1>
          <p class="muted">Press the button to make this the address you log in to {config.appName} with.</p>
          <form id="email-confirm">
            <button id="submit" class="button" type="submit" data-busy="Confirming…">Confirm new address</button>
            <Notice />
          </form>
          <button class="switch" type="button" data-show="code">Enter the code from the email instead</button>
        </View>
        <View name="code">
          <h1>Enter your code</h1>
          <p class="muted">Type the new email address and the 6-digit code we sent to it.</p>
          <form id="email-code">
            <label for="code-email">New email address</label>
            <input id="code-email" name="email" type="email" autocomplete="email" maxlength={254} required />
            <CodeInput id="code" />
            <button class="button" type="submit" data-busy="Confirming…">Confirm new address</button>
            <Notice />
          </form>
        </View>
        <View name="done">
          <Mark kind="ok" />
          <h1>Your email address is changed</h1>
          <p>
            From now on you log in with <strong id="new-address"></strong>. Other devices were signed out.
          </p>
          <a class="button" href={config.loginUrl}>
            Continue to {config.appName}
          </a>
        </View>
        <View name="expired">
          <Mark kind="error" />
          <h1>This link no longer works</h1>
          <p class="reason">This link is incomplete. Open it from the email again.</p>
          <p class="muted">To change your address, ask for the change again in {config.appName}: you will get a new link.</p>
          <a class="button" href={config.loginUrl}>
            Go to {config.appName}
          </a>
        </View>
      </Page>,
    );
  })
  .get("/revert", (c) => {
    const config = c.var.deps.config;
    return c.html(
      <Page config={config} nonce={c.var.secureHeadersNonce!} title="Cancel the email change" script={REVERT_SCRIPT}>
        <View name="start">
          <h1>Cancel the email change?</h1>
          <p>Someone asked to change the email address of your {config.appName} account. If it was not you, cancel it here.</p>
          <p class="muted">
            If the change has already happened, this undoes it (for {EMAIL_CHANGE_UNDO_HOURS} hours after it happened) and signs out every session.
          </p>
          <form id="revert">
            <button id="submit" class="button" type="submit" data-busy="Cancelling…">Cancel the change</button>
            <Notice />
          </form>
        </View>
        <View name="done">
          <Mark kind="ok" />
          <h1 id="done-title">The change is cancelled</h1>
          <p id="done-message"></p>
          <a class="button" href={config.forgotPasswordUrl}>
            Choose a new password
          </a>
        </View>
        <View name="expired">
          <Mark kind="error" />
          <h1>This link no longer works</h1>
          <p class="reason">This link is incomplete. Open it from the email again.</p>
          <p class="muted">
            It works until the change happens and for {EMAIL_CHANGE_UNDO_HOURS} hours after. If you think someone else controls your account, reset
            your password.
          </p>
          <a class="button" href={config.forgotPasswordUrl}>
            Reset your password
          </a>
        </View>
      </Page>,
    );
  });
