import { parseArgs } from "node:util";
import { startResendStandIn } from "./server.ts";

// Usage: node tools/resend-stand-in/cli.ts [--port 3025] [--host 127.0.0.1]
// Point the Worker at it with RESEND_BASE_URL; read what arrived at GET /_test/messages?to=<email>.
const { values } = parseArgs({
  options: { port: { type: "string", default: "3025" }, host: { type: "string", default: "127.0.0.1" } },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a TCP port, got ${values.port}`);
  process.exit(2);
}

const standIn = await startResendStandIn({ host: values.host, port });
console.log(`Resend stand-in listening on ${standIn.url}`);
console.log(`  POST ${standIn.url}/emails   GET ${standIn.url}/_test/messages?to=<email>`);

async function stop(): Promise<void> {
  await standIn.close();
  process.exit(0);
}
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
