/// <reference types="node" />
// Usage: node tools/libsql-server/cli.ts [--file .data/dev.db] [--host 127.0.0.1] [--port 8080]
//          [--auth-token T] [--data-dir D] [--migrations drizzle] [--stream-idle-ms 10000] [--quiet]
import { parseArgs } from "node:util";
import { startLibsqlServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    "auth-token": { type: "string" },
    "data-dir": { type: "string" },
    migrations: { type: "string" },
    "stream-idle-ms": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

const server = await startLibsqlServer({
  file: values.file,
  host: values.host,
  port: Number(values.port),
  authToken: values["auth-token"],
  dataDir: values["data-dir"],
  migrationsDir: values.migrations,
  streamIdleMs: values["stream-idle-ms"] ? Number(values["stream-idle-ms"]) : undefined,
  log: values.quiet ? undefined : (line) => console.log(`[libsql-server] ${line}`),
});
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
