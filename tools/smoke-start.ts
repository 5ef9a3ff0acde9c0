// Black-box check of `npm start` as a newcomer would use it: start the service, walk every flow over
// HTTP using the dev mailbox, then the attacks of tools/smoke-hardening.ts, stop it, start it again
// and log in (the data survived), and last check that a staging-like configuration refuses to serve.
// Used by CI.
//   npm run smoke      (port 8799 unless SMOKE_PORT is set, so it does not collide with npm start)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { latestMailedLink, postJson, startLocalService } from "./local-service.ts";
import { checkHardening } from "./smoke-hardening.ts";

const PORT = Number(process.env.SMOKE_PORT ?? 8799);

function expectStatus(step: string, actual: number | string, expected: number | string) {
  if (actual !== expected) throw new Error(`${step}: expected ${expected}, got ${actual}`);
  console.log(`ok   ${step} → ${actual}`);
}

const tokenOf = (link: string) => decodeURIComponent(link.split("#token=")[1]!);

async function main() {
  const email = `smoke-${randomBytes(4).toString("hex")}@example.com`;
  let service = await startLocalService(PORT);
  try {
    const post = (path: string, body: unknown, token?: string) => postJson(service.base, path, body, token);
    expectStatus("register", (await post("/v1/register", { email, password: "correct horse battery", name: "Smoke" })).status, 202);
    const confirmToken = tokenOf(await latestMailedLink(service.base, email, "confirm"));
    expectStatus("confirm with the token alone is refused", (await post("/v1/confirm", { token: confirmToken })).status, 400);
    const confirm = await post("/v1/confirm", { token: confirmToken, password: "correct horse battery" });
    expectStatus("confirm from the mailbox link with the password", confirm.status, 200);
    const login = await post("/v1/login", { email, password: "correct horse battery" });
    expectStatus("login", login.status, 200);
    const me = await fetch(`${service.base}/v1/me`, { headers: { authorization: `Bearer ${login.body.session.access_token}` } });
    expectStatus("me", me.status, 200);
    const refreshed = await post("/v1/token/refresh", { refresh_token: login.body.session.refresh_token });
    expectStatus("refresh", refreshed.status, 200);
    expectStatus("logout", (await post("/v1/logout", {}, refreshed.body.session.access_token)).status, 204);
    expectStatus("forgot", (await post("/v1/password/forgot", { email })).status, 202);
    const resetLink = await latestMailedLink(service.base, email, "reset");
    expectStatus("reset from the mailbox link", (await post("/v1/password/reset", { token: tokenOf(resetLink), password: "a new long passphrase" })).status, 200);
    expectStatus("old password refused", (await post("/v1/login", { email, password: "correct horse battery" })).status, 401);

    await checkHardening(service.base, expectStatus);

    // /docs loads Scalar's script from this origin, answered by the static assets, not the Worker.
    const docs = await fetch(`${service.base}/docs`);
    expectStatus("GET /docs", docs.status, 200);
    const src = /<script[^>]* src="([^"]+)"/.exec(await docs.text())?.[1] ?? "none";
    const script = await fetch(new URL(src, service.base));
    expectStatus(`GET ${src} (static asset)`, `${script.status} ${script.headers.get("content-type")?.split(";")[0]} ${(await script.arrayBuffer()).byteLength > 1_000_000}`, "200 text/javascript true");

    // The first admin key, made by the CLI in npm start's own database while it runs.
    const made = spawnSync("npm", ["run", "--silent", "admin", "--", "keys", "create", "--name", "smoke", "--scopes", "users:read"], { encoding: "utf8" });
    expectStatus("npm run admin -- keys create", made.status ?? -1, 0);
    const adminKey = made.stdout.trim().split("\n").at(-1)!;
    const users = await fetch(`${service.base}/admin/v1/users?email_prefix=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${adminKey}` } });
    expectStatus("the printed key on GET /admin/v1/users", users.status, 200);
    expectStatus("… which lists the smoke user", ((await users.json()) as { users: Array<{ email: string }> }).users[0]?.email ?? "none", email);

    await service.stop();
    service = await startLocalService(PORT);
    const again = await postJson(service.base, "/v1/login", { email, password: "a new long passphrase" });
    expectStatus("login after restart (data kept)", again.status, 200);
  } finally {
    await service.stop();
  }

  // One wrong variable on a staging deploy must not publish the dev mailbox.
  const staging = await startLocalService(PORT, {
    env: { PUBLIC_URL: "https://staging.example.com" },
    until: (res) => res.status === 500,
  });
  try {
    const res = await fetch(`${staging.base}/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expectStatus("development with a non-loopback PUBLIC_URL refuses to serve", body.error.code, "bad_environment");
    expectStatus("… naming the setting", /ENVIRONMENT/.test(body.error.message) ? "named" : body.error.message, "named");
  } finally {
    await staging.stop();
  }
}

main().then(
  () => console.log("smoke: npm start works"),
  (err) => {
    console.error(`smoke failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
