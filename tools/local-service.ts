// Starts and stops `npm start` as a child process group, for the black-box checks (smoke, browser).
import { spawn, type ChildProcess } from "node:child_process";

export interface LocalService {
  base: string;
  stop(): Promise<void>;
}

/**
 * `until`: what counts as started — by default /health answering 200; a check of a refused
 * configuration passes a predicate for the answer it expects instead.
 */
export async function startLocalService(
  port: number,
  options: { env?: Record<string, string>; until?: (res: Response) => boolean } = {},
): Promise<LocalService> {
  const child: ChildProcess = spawn("npm", ["start"], {
    env: { ...process.env, ...options.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid!, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  };
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    if (child.exitCode !== null) break;
    const res = await fetch(`${base}/health`).catch(() => null);
    if (res && (options.until ? options.until(res.clone()) : res.status === 200 && ((await res.json()) as { status?: string }).status === "ok")) {
      console.log(`ok   npm start answered /health with ${res.status} after ${Date.now() - started} ms`);
      return { base, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`npm start did not answer /health as expected within 60 s:\n${output}`);
}

interface MailboxMessage {
  to: string;
  template: string;
  text: string | null;
  links: string[];
}

async function mailbox(base: string): Promise<MailboxMessage[]> {
  return ((await (await fetch(`${base}/dev/mailbox.json`)).json()) as { messages: MailboxMessage[] }).messages;
}

/** The hosted pages a mailed link can open, by the mail that carries it. */
const LINK_MAILS = {
  confirm: "confirm-email",
  reset: "reset-password",
  "email/confirm": "email-change-confirm",
  "email/revert": "email-change-requested",
} as const;
export type LinkKind = keyof typeof LINK_MAILS;

/**
 * The token link of the newest mail of a kind to an address, from the dev mailbox (found by the
 * mail's template, so it works whatever CONFIRM_URL or RESET_URL point at).
 */
export async function latestMailedLink(base: string, email: string, kind: LinkKind): Promise<string> {
  for (const message of await mailbox(base)) {
    if (message.to !== email || message.template !== LINK_MAILS[kind]) continue;
    const link = message.links.find((l) => l.includes("#token="));
    if (link) return link;
  }
  throw new Error(`no ${kind} link for ${email} in the dev mailbox`);
}

/** The 6-digit code of the newest mail to an address that has one. */
export async function latestMailedCode(base: string, email: string): Promise<string> {
  for (const message of await mailbox(base)) {
    const code = message.to === email ? /\n([0-9]{6})\n/.exec(message.text ?? "")?.[1] : undefined;
    if (code) return code;
  }
  throw new Error(`no code for ${email} in the dev mailbox`);
}

export async function postJson(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
