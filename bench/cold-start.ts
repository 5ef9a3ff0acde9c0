// A fresh isolate's first request against the same request once the isolate is warm. Every
// `wrangler dev` start is a fresh isolate, so each trial starts one (without the /health probe the
// load Worker gets), times its first request, then a few more on the same isolate.
import type { Answer } from "./api.ts";
import type { DevWorker } from "./stack.ts";

export interface ColdCase {
  endpoint: string;
  status: number;
  send: (base: string) => Promise<Answer>;
}

export interface ColdStart {
  endpoint: string;
  /** Median over the trials of the first request to a fresh isolate. */
  coldMs: number;
  /** Median over the trials of the median of the requests that followed it. */
  warmMs: number;
  ratio: number;
  trials: Array<{ coldMs: number; warmMs: number }>;
}

const WARM_REQUESTS = 5;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(c: ColdCase, base: string): Promise<number> {
  const started = performance.now();
  const answer = await c.send(base);
  const took = performance.now() - started;
  if (answer.status !== c.status) {
    throw new Error(`${c.endpoint} on a fresh isolate: expected ${c.status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
  return took;
}

export async function measureColdStarts(
  start: (name: string) => Promise<DevWorker>,
  cases: ColdCase[],
  trials: number,
): Promise<ColdStart[]> {
  const results: ColdStart[] = [];
  for (const c of cases) {
    const runs: Array<{ coldMs: number; warmMs: number }> = [];
    for (let trial = 0; trial < trials; trial++) {
      const worker = await start(`cold-${results.length}-${trial}`);
      try {
        const coldMs = await timed(c, worker.base);
        const warm: number[] = [];
        for (let i = 0; i < WARM_REQUESTS; i++) warm.push(await timed(c, worker.base));
        runs.push({ coldMs, warmMs: median(warm) });
      } finally {
        await worker.stop();
      }
    }
    const coldMs = median(runs.map((r) => r.coldMs));
    const warmMs = median(runs.map((r) => r.warmMs));
    results.push({ endpoint: c.endpoint, coldMs, warmMs, ratio: coldMs / warmMs, trials: runs });
  }
  return results;
}
