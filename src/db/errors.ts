import { causes } from "../lib/errors.ts";

// Extended result codes, when the server reports them (a local libSQL file does; Hrana over HTTP
// gives only the base code SQLITE_CONSTRAINT, so there the message decides).
const UNIQUE_CODES = new Set(["SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"]);
const UNIQUE_RAW_CODES = new Set([2067, 1555]);

// Only a duplicate key means "already there". NOT NULL, FOREIGN KEY and CHECK failures share the
// base code SQLITE_CONSTRAINT but are bugs, and must not be answered as if the row existed.
// drizzle wraps the client's error (look through `cause`), and its own message quotes the query's
// parameters, so only errors that carry an SQLite code are read.
export function isUniqueViolation(err: unknown): boolean {
  for (const e of causes(err)) {
    const { code, extendedCode, rawCode, message } = e as { code?: unknown; extendedCode?: unknown; rawCode?: unknown; message?: unknown };
    if (typeof code !== "string") continue;
    if (UNIQUE_CODES.has(code) || UNIQUE_CODES.has(String(extendedCode)) || UNIQUE_RAW_CODES.has(Number(rawCode))) return true;
    if (typeof message === "string" && message.includes("UNIQUE constraint failed")) return true;
  }
  return false;
}
