import { env } from "cloudflare:test";

export interface ReceivedMail {
  id: string;
  headers: { authorization: string | null; idempotencyKey: string | null };
  body: { from: string; to: string | string[]; subject: string; html?: string; text?: string };
}

const standIn = () => env.RESEND_STAND_IN_URL.replace(/\/$/, "");

/** What the Resend stand-in received for one address, oldest first. */
export async function mailsTo(email: string): Promise<ReceivedMail[]> {
  const res = await fetch(`${standIn()}/_test/messages?to=${encodeURIComponent(email)}`);
  return (await res.json()) as ReceivedMail[];
}

export async function setMailFailure(mode: Record<string, unknown>): Promise<void> {
  await fetch(`${standIn()}/_test/failure`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(mode) });
}

export async function idempotencyCounts(): Promise<Record<string, { deliveries: number; requests: number }>> {
  return (await (await fetch(`${standIn()}/_test/idempotency`)).json()) as Record<string, { deliveries: number; requests: number }>;
}

/** The token in the newest mail's link (`…#token=…`). */
export function tokenFrom(mail: ReceivedMail | undefined): string {
  const match = /token=([A-Za-z0-9_-]{43})/.exec(mail?.body.text ?? "");
  if (!match) throw new Error(`no token link in mail: ${mail?.body.subject}`);
  return match[1]!;
}

/** The 6-digit code printed beside the link in a mail (on a line of its own). */
export function codeFrom(mail: ReceivedMail | undefined): string {
  const match = /\n([0-9]{6})\n/.exec(mail?.body.text ?? "");
  if (!match) throw new Error(`no code in mail: ${mail?.body.subject}`);
  return match[1]!;
}

/** The newest mail to an address whose subject matches. */
export async function latestMailTo(email: string, subject: RegExp): Promise<ReceivedMail> {
  const mail = (await mailsTo(email)).filter((m) => subject.test(m.body.subject)).at(-1);
  if (!mail) throw new Error(`no mail to ${email} with a subject like ${subject}`);
  return mail;
}

export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}
