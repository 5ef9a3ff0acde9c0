import { env } from "cloudflare:test";
import { parseConfig } from "../../src/config.ts";
import { createApp } from "../../src/app.ts";
import { buildDeps } from "../../src/deps.ts";
import type { Deps } from "../../src/deps.ts";
import { generateSigningKeyJwk } from "../../src/lib/crypto/jwt.ts";
import type { Clock } from "../../src/lib/clock.ts";
import { assertConformant } from "./conformance.ts";

export const PUBLIC_URL = "https://auth.example.test";
export const RESEND_KEY = "re_test_edge_auth";

let signingKeys: Promise<string> | undefined;
export function testSigningKeys(): Promise<string> {
  signingKeys ??= Promise.all([generateSigningKeyJwk("test-1"), generateSigningKeyJwk("test-0")]).then((keys) =>
    JSON.stringify(keys),
  );
  return signingKeys;
}

export class TestClock implements Clock {
  constructor(public time = Date.UTC(2026, 10, 21, 12, 0, 0)) {}
  now() {
    return this.time;
  }
  advance(ms: number) {
    this.time += ms;
  }
}

export interface TestServiceOptions {
  settings?: Record<string, string>;
  clock?: Clock;
  /** "auto": background work runs at once and settle() awaits it; "manual": it waits for runDeferred(). */
  background?: "auto" | "manual";
  deps?: Partial<Deps>;
  /**
   * The per-IP and per-API-key budgets: effectively none (default), or the strict test bindings
   * (5 a minute per client, 12 per IPv6 /48, 3 per admin key).
   */
  ipBudget?: "unlimited" | "strict";
}

// The real app, built the way src/index.ts builds it, on its own fresh database on the local
// libSQL server, mailing through the real Resend SDK to the local stand-in.
export async function createTestService(options: TestServiceOptions = {}) {
  const dbName = `t${crypto.randomUUID().replaceAll("-", "")}`;
  const dbUrl = `${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/db/${dbName}/`;
  const settings: Record<string, string> = {
    ENVIRONMENT: "test",
    PUBLIC_URL,
    DB_URL: dbUrl,
    DB_AUTH_TOKEN: env.LIBSQL_AUTH_TOKEN,
    JWT_SIGNING_KEYS: await testSigningKeys(),
    PASSWORD_PEPPER: "test-pepper-0123456789abcdefghijklmnop",
    RESEND_API_KEY: RESEND_KEY,
    RESEND_BASE_URL: env.RESEND_STAND_IN_URL,
    MAIL_FROM: "Acme <no-reply@acme.test>",
    APP_NAME: "Acme",
    ALLOWED_ORIGINS: "https://app.example.test",
    ...options.settings,
  };
  const running = new Set<Promise<void>>();
  const queued: Array<() => Promise<void>> = [];
  const defer = (task: () => Promise<void>) => {
    if (options.background === "manual") {
      queued.push(task);
      return;
    }
    const p = task().finally(() => running.delete(p));
    running.add(p);
  };
  const ipLimiters =
    options.ipBudget === "strict"
      ? { client: env.STRICT_IP_RATE_LIMITER, site: env.STRICT_IP_SITE_RATE_LIMITER }
      : { client: env.IP_RATE_LIMITER, site: env.IP_SITE_RATE_LIMITER };
  const adminLimiter = options.ipBudget === "strict" ? env.STRICT_ADMIN_RATE_LIMITER : env.ADMIN_RATE_LIMITER;
  const deps = await buildDeps(parseConfig(settings), { ipLimiters, adminLimiter }, { defer, ...(options.clock ? { clock: options.clock } : {}), ...options.deps });
  const app = createApp(deps);

  /** Pipelines (HTTP round trips) this service's database has received so far. */
  async function dbRoundTrips(): Promise<number> {
    const res = await fetch(`${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/stats`);
    const stats = (await res.json()) as { databases: Record<string, number> };
    return stats.databases[dbName] ?? 0;
  }

  /** Statements that may write, as counted by the local libSQL server for this service's database. */
  async function dbWrites(): Promise<number> {
    const res = await fetch(`${env.LIBSQL_BASE_URL.replace(/\/$/, "")}/stats`);
    const stats = (await res.json()) as { writes: Record<string, number> };
    return stats.writes[dbName] ?? 0;
  }

  async function runDeferred() {
    while (queued.length > 0) await queued.shift()!();
  }

  async function request(path: string, init: RequestInit & { json?: unknown; token?: string } = {}) {
    const headers = new Headers(init.headers);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", "203.0.113.7");
    const method = init.method ?? (body !== undefined && body !== null ? "POST" : "GET");
    const url = `${settings.PUBLIC_URL}${path}`;
    const res = await app.request(url, { ...init, method, headers, body });
    // Every answer a test receives must be one the contract describes (src/contract/).
    await assertConformant(method, url, res);
    return res;
  }

  return {
    app,
    deps,
    dbName,
    settings,
    /** What the Worker entry (src/index.ts) is handed as env: the settings plus the bindings. */
    workerEnv: {
      ...settings,
      IP_RATE_LIMITER: ipLimiters.client,
      IP_SITE_RATE_LIMITER: ipLimiters.site,
      ADMIN_RATE_LIMITER: adminLimiter,
    } as Record<string, unknown>,
    request,
    post: (path: string, json: unknown, token?: string) => request(path, { method: "POST", json, token }),
    /** Runs what waits for runDeferred(), then waits for all background work started so far. */
    async settle() {
      await runDeferred();
      while (running.size > 0) await Promise.all([...running]);
    },
    runDeferred,
    dbRoundTrips,
    dbWrites,
    /**
     * Runs one request and counts the libSQL requests (round trips) its response cost; background
     * work (mail delivery) must be in "manual" mode and runs only after the count.
     */
    async measureTrips(run: () => Promise<Response>) {
      const before = await dbRoundTrips();
      const res = await run();
      const used = (await dbRoundTrips()) - before;
      await runDeferred();
      return { status: res.status, used };
    },
  };
}

export type TestService = Awaited<ReturnType<typeof createTestService>>;
