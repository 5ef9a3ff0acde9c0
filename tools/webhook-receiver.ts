// `npm run webhook-receiver [-- --port 9000 --secret whsec_…]`: a webhook receiver for trying the
// service's outbound webhooks by hand. It verifies every request with the standardwebhooks package
// (as an integrator's receiver would) and prints the verified events; anything else is answered 400
// and printed as refused. Without --secret it makes one up and prints the WEBHOOK_ENDPOINTS line to
// put in .dev.vars (or the environment of `npm start`).
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: { host?: string; port?: number; secret: string; print?: (line: string) => void }): Promise<WebhookReceiver> {
  const host = opts.host ?? "127.0.0.1";
  const print = opts.print ?? ((line: string) => console.log(line));
  const webhook = new Webhook(opts.secret);
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const event = webhook.verify(body, req.headers as Record<string, string>) as { type: string; timestamp: string; data: { sequence?: number } };
      print(`${event.timestamp} ${event.type} #${event.data.sequence ?? "?"} ${req.headers["webhook-id"]}\n${JSON.stringify(event.data, null, 2)}`);
      res.writeHead(204).end();
    } catch (err) {
      print(`refused ${req.method} ${req.url} (webhook-id ${req.headers["webhook-id"] ?? "none"}): ${err instanceof Error ? err.message : String(err)}`);
      res.writeHead(400, { "content-type": "text/plain" }).end("signature not verified");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 9000, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "9000" }, host: { type: "string", default: "127.0.0.1" }, secret: { type: "string" } } });
  const secret = values.secret ?? `whsec_${randomBytes(32).toString("base64")}`;
  const receiver = await startWebhookReceiver({ host: values.host, port: Number(values.port), secret });
  console.log(`webhook receiver listening on ${receiver.url}, verifying with standardwebhooks`);
  if (!values.secret) {
    console.log("add this line to .dev.vars and restart npm start (or set it in npm start's environment):");
    console.log(`WEBHOOK_ENDPOINTS='${JSON.stringify([{ url: receiver.url, secret }])}'`);
  }
  console.log("events appear at http://127.0.0.1:8787/dev/webhooks too; Ctrl-C stops");
  const stop = () => void receiver.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
