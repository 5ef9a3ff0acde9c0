/// <reference types="node" />
// Usage: node tools/libsql-server/cli.ts [--file .data/dev.db] [--host 127.0.0.1] [--port 8080]
//          [--auth-token T | --no-auth] [--data-dir D] [--migrations drizzle] [--stream-idle-ms 10000] [--quiet]
// Without --auth-token it generates a token and prints it once; clients send it as
// `Authorization: Bearer <token>` (the Worker's DB_AUTH_TOKEN). --no-auth serves anyone who can reach the port.
import { parseArgs } from "node:util";
import { generateAuthToken, startLibsqlServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    "auth-token": { type: "string" },
    "no-auth": { type: "boolean", default: false },
    "data-dir": { type: "string" },
    migrations: { type: "string" },
    "stream-idle-ms": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

if (values["no-auth"] && values["auth-token"] !== undefined) {
  console.error("--no-auth and --auth-token exclude each other");
  process.exit(2);
}
const authToken = values["no-auth"] ? null : (values["auth-token"] ?? generateAuthToken());

const server = await startLibsqlServer({
  file: values.file,
  host: values.host,
  port: Number(values.port),
  authToken,
  dataDir: values["data-dir"],
  migrationsDir: values.migrations,
  streamIdleMs: values["stream-idle-ms"] ? Number(values["stream-idle-ms"]) : undefined,
  log: values.quiet ? undefined : (line) => console.log(`[libsql-server] ${line}`),
});
// Before the "listening" line, so whoever waits for that line (bench/stack.ts) has the token too.
// Printed only when generated here: whoever passed --auth-token knows it already.
if (authToken === null) console.log("no auth token: anyone who can reach this port can read and write the databases");
else if (values["auth-token"] === undefined) console.log(`auth token: ${authToken}`);
console.log(`libSQL server listening on ${server.url} (database: ${values.file ?? "in memory"})`);
console.log(`named databases: ${server.urlFor("NAME")}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[libsql-server] ${signal}: shutting down`);
  await server.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
