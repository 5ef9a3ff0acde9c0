import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { generateAuthToken, startLibsqlServer } from "../tools/libsql-server/server.ts";
import { startResendStandIn } from "../tools/resend-stand-in/server.ts";
import { startWebhookStandIn } from "../tools/webhook-stand-in/server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    libsqlBaseUrl: string;
    libsqlAuthToken: string;
    resendBaseUrl: string;
    webhookStandInUrl: string;
  }
}

// One local libSQL server (every test file opens its own database on it, migrated on first use),
// one Resend stand-in and one stand-in for integrators' webhook receivers for the whole run.
export default async function setup(project: TestProject) {
  // The Worker imports the SDK build (the example app serves it). `npm test` builds it first; a bare
  // `npx vitest run` on a fresh clone would fail on the missing module, and vitest caches that failure.
  if (!existsSync("client/dist/edge-auth.js")) execFileSync(process.execPath, ["client/build.ts"], { stdio: "inherit" });
  const libsqlAuthToken = generateAuthToken();
  const libsql = await startLibsqlServer({ host: "127.0.0.1", port: 0, migrationsDir: "drizzle", authToken: libsqlAuthToken });
  const resend = await startResendStandIn({ host: "127.0.0.1", port: 0 });
  const receivers = await startWebhookStandIn({ host: "127.0.0.1", port: 0 });
  project.provide("libsqlBaseUrl", libsql.url);
  project.provide("libsqlAuthToken", libsqlAuthToken);
  project.provide("resendBaseUrl", resend.url);
  project.provide("webhookStandInUrl", receivers.url);
  return async () => {
    await receivers.close();
    await resend.close();
    await libsql.close();
  };
}
