// The API load cases, built against one Worker: accounts and sessions they need are made up front.
// `npm run bench` runs them against one stack; `-- --scale` runs each against an empty and a seeded
// database side by side.
import { benchIp, inParallel, login, PASSWORD, registerConfirmed, type Session } from "./api.ts";
import type { LoadCase } from "./load.ts";

export function jsonPost(path: string, body: unknown) {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json", "cf-connecting-ip": benchIp() },
    body: JSON.stringify(body),
  };
}

export interface ApiCases {
  /** A confirmed account's session (GET /v1/me, GET /v1/me/events). */
  session: Session;
  login(connections: number): LoadCase;
  refresh(connections: number): LoadCase;
  register(connections: number): LoadCase;
  forgot(connections: number): LoadCase;
  events(connections: number): LoadCase;
}

export async function apiCases(base: string, run: string, plan: { rounds: number; forgotUsers: number; refreshConnections: number }): Promise<ApiCases> {
  const loginEmail = `login-${run}@bench.example`;
  const session = await registerConfirmed(base, loginEmail);

  // Rotation: each refresh consumes its token and answers with the successor. Every connection
  // takes a live token from the pool and puts the successor back, so each request presents a token
  // that has never been used (a reused one would end the session and answer 401). A request still in
  // flight when a round ends takes its successor with it, hence a spare session per connection and round.
  const sessions = plan.refreshConnections * (plan.rounds + 1);
  const pool: string[] = (await inParallel(Array.from({ length: sessions }), 2, () => login(base, loginEmail))).map((s) => s.refresh_token);

  // Forgot sends a reset mail to a confirmed account; addresses rotate so the per-address mail budget
  // is not what gets measured.
  const forgotEmails = Array.from({ length: plan.forgotUsers }, (_, i) => `forgot-${run}-${i}@bench.example`);
  await inParallel(forgotEmails, 2, (email) => registerConfirmed(base, email));
  let forgotNext = 0;
  let registerNext = 0;

  return {
    session,
    login: (connections) => ({
      name: "POST /v1/login",
      connections,
      request: jsonPost("/v1/login", { email: loginEmail, password: PASSWORD }),
      next: () => jsonPost("/v1/login", { email: loginEmail, password: PASSWORD }),
    }),
    refresh: (connections) => ({
      name: "POST /v1/token/refresh",
      connections,
      // Built per request by `next` (also the first one); this one is never sent.
      request: jsonPost("/v1/token/refresh", { refresh_token: "" }),
      next: () => jsonPost("/v1/token/refresh", { refresh_token: pool.pop() ?? "pool-ran-dry" }),
      onAnswer: (status, body) => {
        if (status === 200) pool.push((JSON.parse(body) as { session: Session }).session.refresh_token);
      },
    }),
    register: (connections) => ({
      name: "POST /v1/register (new address)",
      connections,
      request: jsonPost("/v1/register", { email: `reg-${run}-x@bench.example`, password: PASSWORD }),
      next: () => jsonPost("/v1/register", { email: `reg-${run}-${registerNext++}@bench.example`, password: PASSWORD }),
    }),
    forgot: (connections) => ({
      name: "POST /v1/password/forgot",
      connections,
      request: jsonPost("/v1/password/forgot", { email: forgotEmails[0] }),
      next: () => jsonPost("/v1/password/forgot", { email: forgotEmails[forgotNext++ % forgotEmails.length] }),
    }),
    events: (connections) => ({
      name: "GET /v1/me/events",
      connections,
      request: { path: "/v1/me/events", headers: { authorization: `Bearer ${session.access_token}` } },
    }),
  };
}
