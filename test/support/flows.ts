import { expect } from "vitest";
import { mailsTo, tokenFrom, uniqueEmail } from "./mail.ts";
import type { TestService } from "./service.ts";

export const PASSWORD = "correct horse battery";

export interface SessionBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

export async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** Registers, confirms through the mailed link and returns the session the confirmation opened. */
export async function createConfirmedUser(t: TestService, label = "user", password = PASSWORD) {
  const email = uniqueEmail(label);
  expect((await t.post("/v1/register", { email, password, name: "Ana" })).status).toBe(202);
  await t.settle();
  const mails = await mailsTo(email);
  const res = await t.post("/v1/confirm", { token: tokenFrom(mails.at(-1)), password });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { user: { id: string }; session: SessionBody };
  return { email, password, userId: body.user.id, session: body.session };
}

export async function login(t: TestService, email: string, password = PASSWORD) {
  const res = await t.post("/v1/login", { email, password });
  expect(res.status).toBe(200);
  return ((await res.json()) as { session: SessionBody }).session;
}

/** The body without its request id, which differs on every response by design. */
export async function comparableBody(res: Response): Promise<unknown> {
  const body = (await res.json()) as { error?: { request_id?: string } };
  if (body.error) delete body.error.request_id;
  return body;
}

/** The account API's POST-only endpoints that take a JSON body (the body guards and methods tests walk them). */
export const ACCOUNT_POSTS = [
  "/v1/register",
  "/v1/confirm",
  "/v1/confirm/resend",
  "/v1/login",
  "/v1/token/refresh",
  "/v1/logout",
  "/v1/password/forgot",
  "/v1/password/reset",
  "/v1/password/change",
  "/v1/email/change",
  "/v1/email/change/confirm",
  "/v1/email/change/revert",
];
