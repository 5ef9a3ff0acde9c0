// Mixed load: virtual users each running the life of an account over and over — register, confirm
// (with the password), log in, refresh five times, forgot + reset — for a fixed time against one
// `wrangler dev` Worker that mails through the Resend stand-in. Reports every endpoint's latency, any
// 5xx, and whether each mail of every finished round arrived exactly once.
import { startResendStandIn, type ResendStandIn } from "../tools/resend-stand-in/server.ts";
import { call, PASSWORD, type Answer } from "./api.ts";
import type { DevWorker } from "./stack.ts";

export interface EndpointStats {
  endpoint: string;
  requests: number;
  p50: number;
  p99: number;
  /** Answers other than the one the flow expects. */
  unexpected: number;
  serverErrors: number;
}

export interface MixedResult {
  users: number;
  seconds: number;
  rounds: number;
  endpoints: EndpointStats[];
  serverErrors: number;
  /** Mails the finished rounds should have caused (confirmation, reset link, password changed: 3 each). */
  mailsExpected: number;
  mailsDelivered: number;
  mailsTwice: number;
  /** Cron runs fired after the load to deliver what the request path could not send (0 or 1). */
  cronRuns: number;
  failures: string[];
}

const NEW_PASSWORD = "bench: a brand new passphrase";

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function tokenMail(standIn: ResendStandIn, to: string, linkPath: string, deadline: number): Promise<string> {
  while (Date.now() < deadline) {
    for (const mail of standIn.messages(to)) {
      const match = new RegExp(`${linkPath}#token=([A-Za-z0-9_-]{43})`).exec(String(mail.body.text ?? ""));
      if (match) return match[1]!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const got = standIn.messages(to).map((m) => String(m.body.subject));
  throw new Error(`no ${linkPath} mail for a bench address within 30 s (it has: ${JSON.stringify(got)})`);
}

export async function measureMixed(opts: { users: number; seconds: number; start: (resendBaseUrl: string) => Promise<DevWorker> }): Promise<MixedResult> {
  const standIn = await startResendStandIn({ host: "127.0.0.1", port: 0 });
  const worker = await opts.start(standIn.url);
  const latencies = new Map<string, number[]>();
  const unexpected = new Map<string, number>();
  const serverErrors = new Map<string, number>();
  const finished: string[] = [];
  const failures: string[] = [];
  const run = Date.now().toString(36);
  const endAt = Date.now() + opts.seconds * 1000;
  const timed = async (endpoint: string, expected: number, send: () => Promise<Answer>): Promise<Answer> => {
    const started = performance.now();
    const answer = await send();
    latencies.set(endpoint, [...(latencies.get(endpoint) ?? []), performance.now() - started]);
    if (answer.status >= 500) serverErrors.set(endpoint, (serverErrors.get(endpoint) ?? 0) + 1);
    if (answer.status !== expected) {
      unexpected.set(endpoint, (unexpected.get(endpoint) ?? 0) + 1);
      throw new Error(`${endpoint}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`);
    }
    return answer;
  };
  const base = worker.base;

  async function life(email: string): Promise<void> {
    await timed("POST /v1/register", 202, () => call(base, "/v1/register", { json: { email, password: PASSWORD } }));
    const confirmToken = await tokenMail(standIn, email, "/confirm", Date.now() + 30_000);
    await timed("POST /v1/confirm", 200, () => call(base, "/v1/confirm", { json: { token: confirmToken, password: PASSWORD } }));
    const login = await timed("POST /v1/login", 200, () => call(base, "/v1/login", { json: { email, password: PASSWORD } }));
    let refresh = login.body.session.refresh_token as string;
    for (let i = 0; i < 5; i++) {
      const answer = await timed("POST /v1/token/refresh", 200, () => call(base, "/v1/token/refresh", { json: { refresh_token: refresh } }));
      refresh = answer.body.session.refresh_token;
    }
    await timed("POST /v1/password/forgot", 202, () => call(base, "/v1/password/forgot", { json: { email } }));
    const resetToken = await tokenMail(standIn, email, "/reset", Date.now() + 30_000);
    await timed("POST /v1/password/reset", 200, () => call(base, "/v1/password/reset", { json: { token: resetToken, password: NEW_PASSWORD } }));
  }

  try {
    await Promise.all(
      Array.from({ length: opts.users }, async (_, user) => {
        for (let round = 0; Date.now() < endAt; round++) {
          const email = `mixed-${run}-${user}-${round}@bench.example`;
          try {
            await life(email);
            finished.push(email);
          } catch (err) {
            if (failures.length < 10) failures.push(err instanceof Error ? err.message : String(err));
          }
        }
      }),
    );
    // The "password changed" mail goes out after the reset's response.
    await new Promise((r) => setTimeout(r, 3_000));
    const count = () => {
      let delivered = 0;
      let twice = 0;
      for (const email of finished) {
        const mails = standIn.messages(email);
        delivered += mails.length;
        const subjects = mails.map((m) => String(m.body.subject));
        twice += subjects.length - new Set(subjects).size;
      }
      return { delivered, twice };
    };
    // A send the request path could not make waits for the cron, as in production: once the retry
    // is due (the first backoff is at most 36 s), one cron run delivers it.
    let cronRuns = 0;
    if (count().delivered < finished.length * 3) {
      await new Promise((r) => setTimeout(r, 40_000));
      const res = await fetch(`${base}/cdn-cgi/local/scheduled?cron=*+*+*+*+*`);
      await res.body?.cancel();
      cronRuns++;
      await new Promise((r) => setTimeout(r, 5_000));
    }
    const { delivered, twice } = count();
    const endpoints = [...latencies].map(([endpoint, values]): EndpointStats => {
      const sorted = [...values].sort((a, b) => a - b);
      return { endpoint, requests: values.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), unexpected: unexpected.get(endpoint) ?? 0, serverErrors: serverErrors.get(endpoint) ?? 0 };
    });
    return {
      users: opts.users,
      seconds: opts.seconds,
      rounds: finished.length,
      endpoints,
      serverErrors: [...serverErrors.values()].reduce((a, b) => a + b, 0),
      mailsExpected: finished.length * 3,
      mailsDelivered: delivered,
      mailsTwice: twice,
      cronRuns,
      failures,
    };
  } finally {
    await worker.stop();
    await standIn.close();
  }
}
