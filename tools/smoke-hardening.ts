// Black-box checks of the attacks the outside review tried, against `npm start` over HTTP: what an
// attacker does from their own clients, and what the owner must still be able to do. Called by the
// smoke (tools/smoke-start.ts) on its running service.
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

type Check = (step: string, actual: number | string, expected: number | string) => void;

interface Mail {
  to: string;
  template: string;
  text: string | null;
  links: string[];
}

let clients = 0;
/** A client address of its own (wrangler dev passes CF-Connecting-IP through). */
const newClient = () => `198.51.${100 + (Math.floor(++clients / 250) % 10)}.${clients % 250}`;

export async function checkHardening(base: string, expect: Check) {
  const call = async (path: string, body: unknown, options: { ip?: string; token?: string } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        "cf-connecting-ip": options.ip ?? newClient(),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  const mails = async (to: string, template: string): Promise<Mail[]> => {
    const { messages } = (await (await fetch(`${base}/dev/mailbox.json`)).json()) as { messages: Mail[] };
    return messages.filter((m) => m.to === to && m.template === template);
  };
  const newestToken = async (to: string, template: string) => {
    const link = (await mails(to, template))[0]?.links.find((l) => l.includes("#token="));
    if (!link) throw new Error(`no ${template} link for ${to}`);
    return decodeURIComponent(link.split("#token=")[1]!);
  };
  const address = (label: string) => `${label}-${randomBytes(4).toString("hex")}@example.com`;
  const OWNER = "the owner's own passphrase";
  const ATTACKER = "the attacker's passphrase";

  // Pre-hijack: the attacker registers first and leaves it unconfirmed.
  const victim = address("victim");
  expect("attacker registers the victim's address", (await call("/v1/register", { email: victim, password: ATTACKER })).status, 202);
  expect("owner registers with another password", (await call("/v1/register", { email: victim, password: OWNER })).status, 202);
  const link = await newestToken(victim, "confirm-email");
  expect("the newest link with the token alone", (await call("/v1/confirm", { token: link })).body.error.code, "proof_required");
  expect("the newest link with a password of no registration", (await call("/v1/confirm", { token: link, password: "a stranger's guess" })).status, 401);
  expect("nothing is active yet: the attacker's password", (await call("/v1/login", { email: victim, password: ATTACKER })).status, 403);
  const confirmed = await call("/v1/confirm", { token: link, password: OWNER });
  expect("the owner confirms the newest link with their password", confirmed.status, 200);
  expect("the attacker's password after the owner confirmed", (await call("/v1/login", { email: victim, password: ATTACKER })).status, 401);
  expect("the owner's password", (await call("/v1/login", { email: victim, password: OWNER })).status, 200);

  // Targeted lock-out: one client guessing fast, many clients guessing slowly.
  const guesser = newClient();
  for (let i = 0; i < 10; i++) await call("/v1/login", { email: victim, password: `guess ${i} of many` }, { ip: guesser });
  const locked = await call("/v1/login", { email: victim, password: OWNER }, { ip: guesser });
  expect("the guessing client, right password, after 10 wrong", locked.status, 429);
  expect("… with Retry-After", locked.headers.get("retry-after") ? "set" : "missing", "set");
  expect("the owner from another client at the same time", (await call("/v1/login", { email: victim, password: OWNER })).status, 200);

  const spread = address("spread");
  await call("/v1/register", { email: spread, password: OWNER });
  expect("confirm", (await call("/v1/confirm", { token: await newestToken(spread, "confirm-email"), password: OWNER })).status, 200);
  for (let i = 0; i < 30; i++) await call("/v1/login", { email: spread, password: `guess ${i} of many` });
  expect("the owner from a fresh client after 30 guesses from 30 clients", (await call("/v1/login", { email: spread, password: OWNER })).status, 200);
  for (let i = 0; i < 60; i++) await call("/v1/login", { email: spread, password: `guess ${i} of more` });
  const owner = newClient();
  const unlock = await call("/v1/login", { email: spread, password: OWNER }, { ip: owner });
  expect("the right password after 60 more spread guesses", unlock.body?.error?.code ?? unlock.status, "unlock_required");
  await new Promise((resolve) => setTimeout(resolve, 500));
  const code = /\n([0-9]{6})\n/.exec((await mails(spread, "unlock-code"))[0]?.text ?? "")?.[1];
  if (!code) throw new Error("no unlock code in the dev mailbox");
  expect("the mailed unlock code lets the owner in", (await call("/v1/login", { email: spread, password: OWNER, unlock_code: code }, { ip: owner })).status, 200);

  // An ended session's access token stops wherever the database is read.
  const old = confirmed.body.session.access_token as string;
  await call("/v1/password/forgot", { email: victim });
  const resetToken = await newestToken(victim, "reset-password");
  expect("reset", (await call("/v1/password/reset", { token: resetToken, password: "the owner's newer passphrase" })).status, 200);
  const fresh = await call("/v1/login", { email: victim, password: "the owner's newer passphrase" });
  expect("the old access token on /v1/me/events after the reset", (await call("/v1/me/events", undefined, { token: old })).status, 401);
  expect("the old access token on /v1/logout {all} after the reset", (await call("/v1/logout", { all: true }, { token: old })).status, 401);
  expect("the owner's new session still refreshes", (await call("/v1/token/refresh", { refresh_token: fresh.body.session.refresh_token })).status, 200);

  // Development routes answer loopback Hosts only (fetch cannot set Host, node:http can).
  const port = Number(new URL(base).port);
  const foreignHost = await new Promise<number>((resolve, reject) => {
    request({ host: "127.0.0.1", port, path: "/dev/mailbox", headers: { host: "staging.example.com" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
  expect("/dev/mailbox with a non-loopback Host", foreignHost, 404);

  // The local libSQL server is no way in: a page in the developer's browser has neither token nor JSON.
  const runtime = Object.fromEntries(
    readFileSync(".data/runtime.env", "utf8")
      .split("\n")
      .map((line) => /^([A-Z_]+)='(.*)'$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const pipeline = JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "select 1" } }] });
  const sqlUrl = new URL("v2/pipeline", runtime.DB_URL!.replace(/\/?$/, "/"));
  const noToken = await fetch(sqlUrl, { method: "POST", headers: { "content-type": "application/json" }, body: pipeline });
  expect("libSQL server without its token", noToken.status, 401);
  const notJson = await fetch(sqlUrl, { method: "POST", headers: { "content-type": "text/plain", authorization: `Bearer ${runtime.DB_AUTH_TOKEN}` }, body: pipeline });
  expect("libSQL server with a text/plain body", notJson.status, 415);
}
