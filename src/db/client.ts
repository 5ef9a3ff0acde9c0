import { createClient } from "@libsql/client/http";
import { drizzle } from "drizzle-orm/libsql/http";
import { AppError } from "../lib/errors.ts";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof createDb>;

// A database that cannot be reached (connection refused, lost, or the server failing) is the
// service being unavailable, not a bug: every endpoint answers 503 db_unavailable for it, like
// /health. SQL errors come back inside a 200 and are untouched.
async function fetchDatabase(request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(request);
  } catch {
    throw new AppError("db_unavailable");
  }
  if (response.status >= 500) throw new AppError("db_unavailable");
  return response;
}

// The same HTTP (Hrana) client in production (Turso), locally (tools/libsql-server) and in tests.
export function createDb(url: string, authToken?: string) {
  // No concurrency limit in the client: its default (20) queues the 21st statement of the isolate
  // and starts it when another request's finishes, from that request's context. workerd cancels
  // what a finished request left running, so under load the queued requests hung (the bench's
  // mixed load: 50 users). Workers bound outgoing connections per request themselves.
  const client = createClient({ url, authToken, intMode: "number", fetch: fetchDatabase, concurrency: Number.POSITIVE_INFINITY });
  return drizzle(client, { schema });
}
