// Load cases: autocannon against 127.0.0.1 for a fixed time, plus the libSQL requests they caused.
// Cases that are compared (bare vs /v1/me, hash vs login) run in alternating rounds, so a neighbour
// process stealing CPU for a few seconds hits both sides instead of one.
import autocannon from "autocannon";
import { settle, type Counter } from "./round-trips.ts";

export type Request = {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
};

export interface LoadCase {
  name: string;
  connections: number;
  /** Another Worker (and its database's counter) than the group's, e.g. the scale bench's two stacks. */
  target?: { base: string; counter: Counter };
  request: Request;
  /** Builds each request (fresh body, client address). */
  next?: () => Request;
  /** Sees every answer, e.g. to keep the refresh token it carries. */
  onAnswer?: (status: number, body: string) => void;
}

export interface LoadResult {
  name: string;
  connections: number;
  seconds: number;
  rounds: number;
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** libSQL HTTP requests per completed request during the case, background mail included. */
  libsqlPerRequest: number;
  /** req/s of each round, to show the spread. */
  roundReqPerSec: number[];
}

interface Sample {
  seconds: number;
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  pipelines: number;
}

async function runOnce(groupBase: string, spec: LoadCase, seconds: number, groupCounter: Counter): Promise<Sample> {
  const base = spec.target?.base ?? groupBase;
  const counter = spec.target?.counter ?? groupCounter;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) throw new Error("the bench only sends load to 127.0.0.1");
  await settle(counter, 100);
  await counter.reset();
  const request = {
    method: spec.request.method ?? "GET",
    path: spec.request.path,
    headers: spec.request.headers,
    body: spec.request.body,
    ...(spec.next
      ? {
          setupRequest: (req: Record<string, unknown>) => {
            const built = spec.next!();
            return { ...req, ...built, method: built.method ?? req.method };
          },
        }
      : {}),
    ...(spec.onAnswer ? { onResponse: (status: number, body: string) => spec.onAnswer!(status, body) } : {}),
  };
  const latencies: number[] = [];
  const tracker = autocannon({ url: base, connections: spec.connections, duration: seconds, requests: [request], timeout: 10 });
  tracker.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
  const result = await tracker;
  const pipelines = await settle(counter, 100);
  return {
    seconds: result.duration,
    latencies,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats as Record<string, { count: number }>).map(([code, s]) => [code, s.count]),
    ),
    pipelines,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function combine(spec: LoadCase, samples: Sample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  const pipelines = samples.reduce((sum, s) => sum + s.pipelines, 0);
  const statusCodes: Record<string, number> = {};
  for (const s of samples) for (const [code, n] of Object.entries(s.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    name: spec.name,
    connections: spec.connections,
    seconds,
    rounds: samples.length,
    requests: latencies.length,
    reqPerSec: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    non2xx: samples.reduce((sum, s) => sum + s.non2xx, 0),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    timeouts: samples.reduce((sum, s) => sum + s.timeouts, 0),
    statusCodes,
    libsqlPerRequest: latencies.length > 0 ? pipelines / latencies.length : 0,
    roundReqPerSec: samples.map((s) => s.latencies.length / s.seconds),
  };
}

/** Runs the cases of a group in alternating rounds; each case gets `seconds` in total. */
export async function runGroup(base: string, group: LoadCase[], seconds: number, rounds: number, counter: Counter): Promise<LoadResult[]> {
  const samples = group.map(() => [] as Sample[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, spec] of group.entries()) samples[i]!.push(await runOnce(base, spec, seconds / rounds, counter));
  }
  return group.map((spec, i) => combine(spec, samples[i]!));
}
