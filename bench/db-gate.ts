// A pass-through HTTP proxy in front of the libSQL server that tells, per Hrana pipeline, whether
// the API response waited for it. Used only while counting round trips (a separate Worker run), so
// the load cases talk to the libSQL server directly, as `npm start` does.
//
// Why a gate: mail delivery starts in waitUntil right after the handler's write batch, before the
// response leaves the Worker, so counting "what arrived before the response" over-counts. Instead
// every pipeline is held: if the response arrives while it is held, the response did not need it
// (background); if the hold runs out first, it is released and counted as response path (the
// response was waiting on it). Background work can only be over-counted as response path (when the
// Worker takes longer than the hold to answer), never the reverse, so the smallest count over a few
// trials is the number.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST } from "./stack.ts";

export interface DbGate {
  url: string;
  /** Starts classifying: every pipeline from now on is held until the response or `holdMs`. */
  arm(): void;
  /** The API response has arrived: held pipelines (and later ones) are background. */
  responseArrived(): void;
  disarm(): { responsePath: number; background: number };
  close(): Promise<void>;
}

export async function startDbGate(target: string, holdMs = 60): Promise<DbGate> {
  let armed = false;
  let answered = false;
  let counts = { responsePath: 0, background: 0 };
  const waiting = new Set<() => void>();

  function hold(): Promise<void> {
    if (!armed) return Promise.resolve();
    if (answered) {
      counts.background++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        waiting.delete(release);
        counts.background++;
        resolve();
      };
      const timer = setTimeout(() => {
        waiting.delete(release);
        counts.responsePath++;
        resolve();
      }, holdMs);
      waiting.add(release);
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (req.method === "POST" && /\/pipeline$/.test(req.url ?? "")) await hold();
      const upstream = await fetch(new URL(req.url ?? "/", target), {
        method: req.method,
        headers: pickHeaders(req),
        body: req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(body),
      });
      const text = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
        "content-length": text.byteLength,
      });
      res.end(text);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/`,
    arm() {
      armed = true;
      answered = false;
      counts = { responsePath: 0, background: 0 };
    },
    responseArrived() {
      answered = true;
      for (const release of [...waiting]) release();
    },
    disarm() {
      armed = false;
      return counts;
    },
    close() {
      for (const release of [...waiting]) release();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function pickHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "authorization"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
