// Small client for the bench: JSON calls to the Worker, and the flows that need a mail (the dev
// mailbox stands in for an inbox, as in `npm start`).
export const PASSWORD = "bench: correct horse battery staple";

export interface Answer {
  status: number;
  body: any;
}

export interface Session {
  access_token: string;
  refresh_token: string;
}

let nextIp = 1;
/** A client address per call, so per-IP limits (if configured low) never refuse setup traffic. */
export function benchIp(n = nextIp++): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export async function call(base: string, path: string, init: { json?: unknown; token?: string; method?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { "cf-connecting-ip": benchIp() };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: res.status, body };
}

export async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<any> {
  const got = await answer;
  if (got.status !== status) throw new Error(`${what}: expected ${status}, got ${got.status} ${JSON.stringify(got.body).slice(0, 300)}`);
  return got.body;
}

/** The token from the newest mail of `template` to `email` in the dev mailbox. */
export async function tokenFromMailbox(base: string, email: string, template: string): Promise<string> {
  const box = await expectStatus(call(base, "/dev/mailbox.json"), 200, "dev mailbox");
  const messages = box.messages as Array<{ to: string; template: string; links: string[] }>;
  const mail = messages.find((m) => m.to === email && m.template === template);
  const link = mail?.links.find((l) => l.includes("#token="));
  if (!link) throw new Error(`no ${template} mail with a token link for a bench address in the dev mailbox`);
  return decodeURIComponent(link.slice(link.indexOf("#token=") + "#token=".length));
}

/** The 6-digit code of the newest mail of `template` to `email` in the dev mailbox. */
export async function codeFromMailbox(base: string, email: string, template: string): Promise<string> {
  const box = await expectStatus(call(base, "/dev/mailbox.json"), 200, "dev mailbox");
  const messages = box.messages as Array<{ to: string; template: string; text: string | null }>;
  const code = /\n([0-9]{6})\n/.exec(messages.find((m) => m.to === email && m.template === template)?.text ?? "")?.[1];
  if (!code) throw new Error(`no ${template} mail with a code for a bench address in the dev mailbox`);
  return code;
}

export async function registerUnconfirmed(base: string, email: string): Promise<void> {
  await expectStatus(call(base, "/v1/register", { json: { email, password: PASSWORD } }), 202, "register");
}

export async function registerConfirmed(base: string, email: string): Promise<Session> {
  await registerUnconfirmed(base, email);
  const token = await tokenFromMailbox(base, email, "confirm-email");
  const body = await expectStatus(call(base, "/v1/confirm", { json: { token, password: PASSWORD } }), 200, "confirm");
  return body.session as Session;
}

export async function login(base: string, email: string): Promise<Session> {
  const body = await expectStatus(call(base, "/v1/login", { json: { email, password: PASSWORD } }), 200, "login");
  return body.session as Session;
}

/** Runs `task` for every item with at most `width` in flight. */
export async function inParallel<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}
