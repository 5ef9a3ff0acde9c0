import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { parseJson, readBody, sendJson } from "../stand-in-http.ts";
import {
  parseFailureMode,
  recipientsOf,
  StandInState,
  type FailureMode,
  type IdempotencyCount,
  type ReceivedMail,
  type SentEmailBody,
} from "./state.ts";

export type { FailureMode, IdempotencyCount, ReceivedMail, SentEmailBody };

export interface ResendStandIn {
  url: string;
  port: number;
  /** Every delivered mail (to one address, if given), oldest first. */
  messages(to?: string): ReceivedMail[];
  close(): Promise<void>;
  setFailure(failure: FailureMode): void;
  /** Stops listening at once (connection refused); resolves when it listens again on the same port after ms. */
  goDown(ms: number): Promise<void>;
}

// Resend accepts up to 40 MB of mail with attachments; this stand-in only sees our templates (a
// batch of 100 of them is well under 4 MB).
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
const MAX_BATCH = 100;

const errorNames: Record<number, string> = {
  400: "validation_error",
  401: "missing_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "invalid_idempotent_request",
  413: "validation_error",
  422: "validation_error",
  429: "rate_limit_exceeded",
  500: "internal_server_error",
};

export async function startResendStandIn(opts: { host?: string; port?: number } = {}): Promise<ResendStandIn> {
  const host = opts.host ?? "127.0.0.1";
  const state = new StandInState();
  const server = createServer((req, res) => {
    handleRequest(state, req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, "The stand-in failed to handle the request.");
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await listen(server, host, opts.port ?? 0);
  const port = boundPort(server);
  let relisten: NodeJS.Timeout | null = null;

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    messages: (to) => state.messages(to),
    setFailure: (failure) => state.setFailure(failure),
    async goDown(ms) {
      await stopListening(server);
      await new Promise<void>((resolve) => {
        relisten = setTimeout(resolve, ms);
      });
      relisten = null;
      await listen(server, host, port);
    },
    async close() {
      if (relisten) clearTimeout(relisten);
      if (server.listening) await stopListening(server);
    },
  };
}

async function handleRequest(state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const route = `${req.method ?? "GET"} ${url.pathname}`;
  switch (route) {
    case "POST /emails":
      return handleSend(state, req, res);
    case "POST /emails/batch":
      return handleBatch(state, req, res);
    case "GET /_test/messages":
      return sendJson(res, 200, state.messages(url.searchParams.get("to")));
    case "GET /_test/idempotency":
      return sendJson(res, 200, state.idempotencyCounts());
    case "POST /_test/failure": {
      const failure = parseFailureMode(parseJson(await readBody(req, MAX_BODY_BYTES)));
      if (!failure) return sendError(res, 422, "Expected a FailureMode.");
      state.setFailure(failure);
      return sendJson(res, 200, { ok: true });
    }
    case "POST /_test/reset":
      state.reset();
      return sendJson(res, 200, { ok: true });
  }
  const knownPaths = ["/emails", "/emails/batch", "/_test/messages", "/_test/idempotency", "/_test/failure", "/_test/reset"];
  if (knownPaths.includes(url.pathname)) return sendError(res, 405, "Method not allowed.");
  return sendError(res, 404, "The requested endpoint does not exist.");
}

/** What every send checks first: a failure to play, the key, the body. Null when it answered already. */
async function admit(state: StandInState, req: IncomingMessage, res: ServerResponse) {
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) {
    sendError(res, 413, "The request body is too large.");
    return null;
  }
  const body = parseJson(raw);

  const failure = state.takeFailure(recipientsOf(body));
  if (failure?.mode === "reset") {
    req.socket.destroy();
    return null;
  }
  if (failure?.mode === "status") {
    const headers: Record<string, string> =
      failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) };
    sendError(res, failure.status, `Simulated ${failure.status} from the stand-in.`, headers);
    return null;
  }

  const authorization = req.headers.authorization ?? null;
  if (!authorization || !/^Bearer \S+$/.test(authorization)) {
    sendError(res, 401, "Missing API key in the authorization header. Include Authorization: Bearer <key>.");
    return null;
  }
  const idempotencyKey = headerValue(req.headers["idempotency-key"]);
  if (idempotencyKey !== null && (idempotencyKey === "" || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    sendError(res, 400, "The Idempotency-Key must be 1 to 256 characters.", {}, "invalid_idempotency_key");
    return null;
  }
  if (body === undefined) {
    sendError(res, 400, "The body is not valid JSON.");
    return null;
  }
  return { body, headers: { authorization, idempotencyKey } };
}

async function handleSend(state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const admitted = await admit(state, req, res);
  if (!admitted) return;
  const problem = validateEmail(admitted.body);
  if (problem) return sendError(res, 422, problem, {}, "missing_required_field");

  const outcome = state.accept([admitted.body as SentEmailBody], admitted.body, admitted.headers);
  if (outcome.kind === "key-reused") {
    return sendError(res, 409, "This Idempotency-Key was already used with a different body.");
  }
  return sendJson(res, 200, { id: outcome.ids[0] });
}

// Resend's batch endpoint: up to 100 mails. Strict validation (the default) refuses the whole batch
// for one invalid mail; `x-batch-validation: permissive` delivers the valid ones and lists the others
// by index, and `data` holds the ids of the delivered mails in order.
async function handleBatch(state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const admitted = await admit(state, req, res);
  if (!admitted) return;
  const mails = admitted.body;
  if (!Array.isArray(mails) || mails.length === 0) return sendError(res, 422, "The body must be an array of emails.");
  if (mails.length > MAX_BATCH) return sendError(res, 422, `A batch holds at most ${MAX_BATCH} emails.`);
  const permissive = headerValue(req.headers["x-batch-validation"]) === "permissive";
  const errors = mails.flatMap((mail, index) => {
    const problem = validateEmail(mail);
    return problem ? [{ index, message: problem }] : [];
  });
  if (errors.length > 0 && !permissive) return sendError(res, 422, errors[0]!.message, {}, "missing_required_field");

  const valid = mails.filter((_, index) => !errors.some((e) => e.index === index)) as SentEmailBody[];
  const outcome = state.accept(valid, mails, admitted.headers);
  if (outcome.kind === "key-reused") {
    return sendError(res, 409, "This Idempotency-Key was already used with a different body.");
  }
  return sendJson(res, 200, { data: outcome.ids.map((id) => ({ id })), ...(permissive ? { errors } : {}) });
}

function validateEmail(body: unknown): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "The body must be a JSON object.";
  const fields = body as Record<string, unknown>;
  for (const field of ["from", "subject"]) {
    if (typeof fields[field] !== "string" || fields[field] === "") return `Missing \`${field}\` field.`;
  }
  if (recipientsOf(body).length === 0) return "Missing `to` field.";
  if (typeof fields.html !== "string" && typeof fields.text !== "string") return "Missing `html` or `text` field.";
  return null;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Answers in Resend's error shape: { statusCode, name, message }. */
function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  name = errorNames[status] ?? "application_error",
): void {
  sendJson(res, status, { statusCode: status, name, message }, headers);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function stopListening(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Pooled keep-alive connections would otherwise keep reaching a server that is "down".
    server.closeAllConnections();
  });
}

function boundPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the stand-in is not listening on a TCP port");
  return address.port;
}
