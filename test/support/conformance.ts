import { operations, type Answer, type Operation } from "../../src/contract/operations.ts";
import { responseSchemas } from "../../src/contract/responses.ts";

// Every response the API tests receive is checked against the contract (src/contract/): matched to
// an operation by method and path template, its status must be one the operation lists, and a JSON
// body must match that status's schema (the same zod schemas the OpenAPI document is built from).
//
// Two answers belong to no operation, as the document's description says: a path the contract
// does not list answers 404 not_found, and a listed path asked with another method 405
// method_not_allowed with Allow (under /admin/v1 the key is checked first, so its 401/403/429 come
// first). Both are checked here explicitly, body included. Outside the contract: the
// development-only pages (/, /dev, /example) and the benchmark routes (/bench), and CORS preflights.

const OUTSIDE = [/^\/$/, /^\/dev(\/|$)/, /^\/example(\/|$)/, /^\/bench(\/|$)/];

const matchers = operations().map((op) => ({
  op,
  pattern: new RegExp(`^${op.path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+")}$`),
}));

export class ContractViolation extends Error {
  override name = "ContractViolation";
}

async function checkError(where: string, res: Response, codes: readonly string[]): Promise<string | null> {
  const parsed = responseSchemas().ErrorBody.safeParse(await res.clone().json().catch(() => undefined));
  if (!parsed.success) return `${where}: the body is not the error shape: ${parsed.error.message}`;
  if (!codes.includes(parsed.data.error.code)) return `${where}: code ${parsed.data.error.code} is not documented (documented: ${codes.join(", ")})`;
  return null;
}

async function checkAnswer(where: string, res: Response, answer: Answer, head = false): Promise<string | null> {
  // A HEAD answer has GET's status and headers and no body to check.
  if (head) return null;
  if ("codes" in answer) return checkError(where, res, answer.codes);
  const type = res.headers.get("content-type") ?? "";
  if (answer.body) {
    if (!type.startsWith("application/json")) return `${where}: expected a JSON body, got ${type || "none"}`;
    const parsed = answer.body.safeParse(await res.clone().json());
    return parsed.success ? null : `${where}: the body does not match its schema: ${parsed.error.message}`;
  }
  if (answer.contentType) return type.startsWith(answer.contentType) ? null : `${where}: expected ${answer.contentType}, got ${type || "none"}`;
  if (res.status === 204 && (await res.clone().text()) !== "") return `${where}: a 204 with a body`;
  return null;
}

/** Why this response breaks the contract, or null when it keeps it. */
export async function contractViolation(method: string, url: string, res: Response): Promise<string | null> {
  const path = new URL(url).pathname;
  const verb = method.toUpperCase() === "HEAD" ? "get" : method.toLowerCase();
  const where = `${method.toUpperCase()} ${path} → ${res.status}`;
  if (OUTSIDE.some((p) => p.test(path))) return null;
  if (verb === "options") return null;
  const candidates = matchers.filter((m) => m.pattern.test(path)).map((m) => m.op);
  if (candidates.length === 0) {
    return res.status === 404 ? checkError(where, res, ["not_found"]) : `${where}: no operation in the contract has this path`;
  }
  const op: Operation | undefined = candidates.find((c) => c.method === verb);
  if (!op) {
    if (res.status === 405) {
      if (!res.headers.get("allow")) return `${where}: 405 without Allow`;
      return checkError(where, res, ["method_not_allowed"]);
    }
    const first = candidates[0]!;
    // A path mounted only under a setting (the Resend webhook) is missing for every method without it.
    if (res.status === 404 && first.responses[404]) return checkError(where, res, ["not_found"]);
    if (first.security === "admin" && [401, 403, 429].includes(res.status)) return checkAnswer(where, res, first.responses[res.status]!);
    return `${where}: the contract has no ${verb.toUpperCase()} for this path, so only 405 may answer`;
  }
  const answer = op.responses[res.status];
  if (!answer) return `${where}: status ${res.status} is not documented for ${op.operationId} (documented: ${Object.keys(op.responses).join(", ")})`;
  return checkAnswer(`${where} (${op.operationId})`, res, answer, method.toUpperCase() === "HEAD");
}

export async function assertConformant(method: string, url: string, res: Response): Promise<void> {
  const problem = await contractViolation(method, url, res);
  if (problem) throw new ContractViolation(problem);
}
