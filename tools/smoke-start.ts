// Black-box check of `npm start` as a newcomer would use it: start the service, walk every flow over
// HTTP using the dev mailbox, stop it, start it again and log in (the data survived). Used by CI.
//   npm run smoke            (PORT defaults to 8799 here so it does not collide with a running npm start)
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";

const PORT = Number(process.env.SMOKE_PORT ?? 8799);
const BASE = `http://127.0.0.1:${PORT}`;

function startService(): ChildProcess {
  const child = spawn("npm", ["start"], {
    env: { ...process.env, PORT: String(PORT) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  child.on("exit", (code) => {
    if (code !== 0 && code !== null && !stopping) {
      console.error(output);
    }
  });
  return child;
}

let stopping = false;
async function stopService(child: ChildProcess) {
  stopping = true;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, "SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  stopping = false;
}

async function waitForHealth(started: number) {
  while (Date.now() - started < 60_000) {
    const res = await fetch(`${BASE}/health`).catch(() => null);
    if (res?.status === 200) {
      const body = await res.json();
      if ((body as { status?: string }).status === "ok") return Date.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("no 200 from /health within 60 s");
}

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function expectStatus(step: string, actual: number, expected: number) {
  if (actual !== expected) throw new Error(`${step}: expected ${expected}, got ${actual}`);
  console.log(`ok   ${step} → ${actual}`);
}

async function latestToken(email: string, path: "confirm" | "reset"): Promise<string> {
  const { messages } = (await (await fetch(`${BASE}/dev/mailbox.json`)).json()) as {
    messages: Array<{ to: string; links: string[] }>;
  };
  for (const message of messages) {
    if (message.to !== email) continue;
    const link = message.links.find((l) => l.includes(`/${path}#token=`));
    if (link) return decodeURIComponent(link.split("#token=")[1]!);
  }
  throw new Error(`no ${path} link for ${email} in the dev mailbox`);
}

async function main() {
  const email = `smoke-${randomBytes(4).toString("hex")}@example.com`;
  let service = startService();
  try {
    console.log(`ok   /health answered 200 after ${await waitForHealth(Date.now())} ms`);
    expectStatus("register", (await post("/v1/register", { email, password: "correct horse battery", name: "Smoke" })).status, 202);
    const confirm = await post("/v1/confirm", { token: await latestToken(email, "confirm") });
    expectStatus("confirm from the mailbox link", confirm.status, 200);
    const login = await post("/v1/login", { email, password: "correct horse battery" });
    expectStatus("login", login.status, 200);
    const me = await fetch(`${BASE}/v1/me`, { headers: { authorization: `Bearer ${login.body.session.access_token}` } });
    expectStatus("me", me.status, 200);
    const refreshed = await post("/v1/token/refresh", { refresh_token: login.body.session.refresh_token });
    expectStatus("refresh", refreshed.status, 200);
    expectStatus("logout", (await post("/v1/logout", {}, refreshed.body.session.access_token)).status, 204);
    expectStatus("forgot", (await post("/v1/password/forgot", { email })).status, 202);
    const reset = await post("/v1/password/reset", { token: await latestToken(email, "reset"), password: "a new long passphrase" });
    expectStatus("reset from the mailbox link", reset.status, 200);
    expectStatus("old password refused", (await post("/v1/login", { email, password: "correct horse battery" })).status, 401);

    await stopService(service);
    service = startService();
    console.log(`ok   restarted; /health 200 after ${await waitForHealth(Date.now())} ms`);
    expectStatus("login after restart (data kept)", (await post("/v1/login", { email, password: "a new long passphrase" })).status, 200);
  } finally {
    await stopService(service);
  }
}

main().then(
  () => console.log("smoke: npm start works"),
  (err) => {
    console.error(`smoke failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
