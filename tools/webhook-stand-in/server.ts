import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { parseJson, readBody, sendJson } from "../stand-in-http.ts";
import { parseBehaviour, Receivers, type Behaviour, type ReceivedRequest } from "./receivers.ts";

export type { Behaviour, ReceivedRequest };

// A local stand-in for integrators' webhook receivers, for the tests (test/global-setup.ts) and the
// bench. Receivers are named (test files share one stand-in and run in parallel, so each uses names
// of its own) and live at POST /hooks/<name>. The tests drive it over HTTP:
//   POST /_test/receivers {name, secret, now?}          a receiver verifying with this secret
//   POST /_test/receivers/<name>/clock {now}             its clock (ms; null: the real one)
//   POST /_test/receivers/<name>/behaviour {mode, …}     how it answers (receivers.ts, Behaviour)
//   GET  /_test/receivers/<name>/requests                what it received, oldest first

export interface WebhookStandIn {
  url: string;
  port: number;
  receivers: Receivers;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;
const HANG_MS = 60_000;

export async function startWebhookStandIn(opts: { host?: string; port?: number } = {}): Promise<WebhookStandIn> {
  const host = opts.host ?? "127.0.0.1";
  const receivers = new Receivers();
  const hanging = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    handle(receivers, hanging, req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: "the stand-in failed" });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the webhook stand-in is not listening on a TCP port");
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    receivers,
    close: () => closeServer(server, hanging),
  };
}

async function handle(receivers: Receivers, hanging: Set<NodeJS.Timeout>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const method = req.method ?? "GET";
  const hook = /^\/hooks\/([A-Za-z0-9_-]{1,100})$/.exec(url.pathname);
  if (hook && method === "POST") {
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) return sendJson(res, 413, { error: "body too large" });
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]));
    const answer = receivers.receive(hook[1]!, headers, body);
    if (answer === null) return sendJson(res, 404, { error: "no such receiver" });
    if (answer.kind === "drop") return void req.socket.destroy();
    if (answer.kind === "hang") {
      const timer = setTimeout(() => {
        hanging.delete(timer);
        res.destroy();
      }, HANG_MS);
      hanging.add(timer);
      res.on("close", () => {
        clearTimeout(timer);
        hanging.delete(timer);
      });
      return;
    }
    res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
    res.end(answer.body);
    return;
  }

  if (url.pathname === "/_test/receivers" && method === "POST") {
    const input = parseJson(await readBody(req, MAX_BODY_BYTES)) as { name?: unknown; secret?: unknown; now?: unknown } | undefined;
    if (typeof input?.name !== "string" || !/^[A-Za-z0-9_-]{1,100}$/.test(input.name) || typeof input.secret !== "string") {
      return sendJson(res, 422, { error: "expected {name, secret, now?}" });
    }
    try {
      receivers.register(input.name, input.secret, typeof input.now === "number" ? input.now : null);
    } catch {
      return sendJson(res, 422, { error: "the secret is not usable" });
    }
    return sendJson(res, 200, { url: `/hooks/${input.name}` });
  }
  const admin = /^\/_test\/receivers\/([A-Za-z0-9_-]{1,100})\/(clock|behaviour|requests)$/.exec(url.pathname);
  if (admin) {
    const [, name, what] = admin as unknown as [string, string, "clock" | "behaviour" | "requests"];
    if (!receivers.has(name)) return sendJson(res, 404, { error: "no such receiver" });
    if (what === "requests" && method === "GET") return sendJson(res, 200, receivers.requests(name));
    if (what === "clock" && method === "POST") {
      const input = parseJson(await readBody(req, MAX_BODY_BYTES)) as { now?: unknown } | undefined;
      if (input?.now !== null && typeof input?.now !== "number") return sendJson(res, 422, { error: "expected {now: number | null}" });
      receivers.setClock(name, input.now as number | null);
      return sendJson(res, 200, { ok: true });
    }
    if (what === "behaviour" && method === "POST") {
      const behaviour = parseBehaviour(parseJson(await readBody(req, MAX_BODY_BYTES)));
      if (!behaviour) return sendJson(res, 422, { error: "expected a Behaviour" });
      receivers.setBehaviour(name, behaviour);
      return sendJson(res, 200, { ok: true });
    }
    return sendJson(res, 405, { error: "method not allowed" });
  }
  return sendJson(res, 404, { error: "not found" });
}

function closeServer(server: Server, hanging: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of hanging) clearTimeout(timer);
  hanging.clear();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
