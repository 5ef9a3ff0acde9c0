// Backlog drain: mails waiting in the outbox (as a burst of sign-ups leaves them when Resend answers
// 429), delivered by the Worker's own cron handler against the local Resend stand-in, one
// `/cdn-cgi/local/scheduled` run after another as the cron would fire them a minute apart. Reports what one run
// drains, and checks that every mail arrived exactly once.
import { createClient, type Client } from "@libsql/client/http";
import { randomUUID } from "node:crypto";
import { deriveSealKey, seal } from "../src/lib/crypto/seal.ts";
import { startResendStandIn } from "../tools/resend-stand-in/server.ts";
import type { Counter } from "./round-trips.ts";
import type { DevWorker } from "./stack.ts";

export interface DrainResult {
  mails: number;
  runs: Array<{ sent: number; seconds: number }>;
  /** What one cron run (they come a minute apart) drains: the first run's mails, per minute of it if it ran longer. */
  mailsPerMinute: number;
  totalSeconds: number;
  /** Provider calls the stand-in received (batches and single sends). */
  providerCalls: number;
  delivered: number;
  duplicates: number;
  missing: number;
}

const QUIET_MS = 2_500;

/** The rows a request leaves when Resend refused its send with a 429: due now, in no batch yet. */
async function queueBacklog(db: Client, pepper: string, run: string, count: number): Promise<string[]> {
  const key = await deriveSealKey(pepper, "outbox v1");
  const now = Date.now();
  const data = JSON.stringify({ appName: "edge-auth", name: null, code: "123456", expiresInSeconds: 600, resetUrl: "http://127.0.0.1/forgot" });
  const recipients: string[] = [];
  for (let start = 0; start < count; start += 200) {
    const rows = await Promise.all(
      Array.from({ length: Math.min(200, count - start) }, async (_, i) => {
        const id = randomUUID();
        const to = `drain-${run}-${start + i}@bench.example`;
        recipients.push(to);
        // Sealed to the row and its recipient, as src/mail/outbox.ts seals (payloadContext).
        return [id, to, await seal(key, data, `${id}\n${to}`)];
      }),
    );
    await db.execute({
      sql: `insert into outbox (id, user_id, to_email, template, locale, payload, status, attempts, next_attempt_at, claimed_until, deadline_at, last_error, send_key, provider_id, created_at, updated_at) values ${rows
        .map(() => "(?, null, ?, 'unlock-code', 'en', ?, 'pending', 1, ?, null, ?, 'resend 429 rate_limit_exceeded', null, null, ?, ?)")
        .join(", ")}`,
      args: rows.flatMap(([id, to, payload]) => [id!, to!, payload!, now - 1000, now + 24 * 3600_000, now - 1000, now - 1000]),
    });
  }
  return recipients;
}

export async function measureDrain(opts: {
  count: number;
  libsql: { url: string; authToken: string };
  counter: Counter;
  pepper: string;
  /** Starts the Worker with RESEND_API_KEY and RESEND_BASE_URL pointed at the stand-in, and --test-scheduled. */
  start: (resendBaseUrl: string) => Promise<DevWorker>;
}): Promise<DrainResult> {
  const standIn = await startResendStandIn({ host: "127.0.0.1", port: 0 });
  const worker = await opts.start(standIn.url);
  const db = createClient({ url: opts.libsql.url, authToken: opts.libsql.authToken });
  try {
    const run = Date.now().toString(36);
    const recipients = await queueBacklog(db, opts.pepper, run, opts.count);
    const expected = new Set(recipients);
    const mine = () => standIn.messages().filter((m) => expected.has(String(m.body.to)));
    const runs: DrainResult["runs"] = [];
    const started = performance.now();
    for (let n = 0; n < 20 && mine().length < opts.count; n++) {
      const before = mine().length;
      const firedAt = performance.now();
      const res = await fetch(`${worker.base}/cdn-cgi/local/scheduled?cron=*+*+*+*+*`);
      await res.body?.cancel();
      if (!res.ok) throw new Error(`/cdn-cgi/local/scheduled answered ${res.status}`);
      const endedAt = await quiet(() => mine().length, opts.counter);
      runs.push({ sent: mine().length - before, seconds: (endedAt - firedAt) / 1000 });
      if (mine().length === before) break;
    }
    const totalSeconds = (performance.now() - started) / 1000;
    const perRecipient = new Map<string, number>();
    for (const m of mine()) perRecipient.set(String(m.body.to), (perRecipient.get(String(m.body.to)) ?? 0) + 1);
    const first = runs[0] ?? { sent: 0, seconds: 1 };
    const keys = new Set(standIn.messages().map((m) => m.headers.idempotencyKey));
    return {
      mails: opts.count,
      runs,
      mailsPerMinute: first.seconds <= 60 ? first.sent : (first.sent / first.seconds) * 60,
      totalSeconds,
      providerCalls: keys.size,
      delivered: perRecipient.size,
      duplicates: [...perRecipient.values()].filter((n) => n > 1).length,
      missing: opts.count - perRecipient.size,
    };
  } finally {
    db.close();
    await worker.stop();
    await standIn.close();
  }
}

/** When a run has finished: nothing new at the stand-in or the database for QUIET_MS. Returns when it last moved. */
async function quiet(sent: () => number, counter: Counter): Promise<number> {
  let last = `${sent()}/${await counter.read()}`;
  let movedAt = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = `${sent()}/${await counter.read()}`;
    if (now !== last) {
      last = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt >= QUIET_MS) return movedAt;
  }
}
