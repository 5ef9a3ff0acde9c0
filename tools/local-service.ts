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

/** The newest link of a kind ("confirm" or "reset") mailed to an address, from the dev mailbox. */
export async function latestMailedLink(base: string, email: string, kind: "confirm" | "reset"): Promise<string> {
  const { messages } = (await (await fetch(`${base}/dev/mailbox.json`)).json()) as {
    messages: Array<{ to: string; links: string[] }>;
  };
  for (const message of messages) {
    if (message.to !== email) continue;
    const link = message.links.find((l) => l.includes(`/${kind}#token=`));
    if (link) return link;
  }
  throw new Error(`no ${kind} link for ${email} in the dev mailbox`);
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
