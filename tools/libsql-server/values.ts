/// <reference types="node" />
// Hrana value encoding and SQLite error mapping.

export type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

export interface HranaError {
  message: string;
  code: string;
}

export type SqlValue = null | bigint | number | string | Buffer;

/** A protocol-level error (bad request shape, unknown sql id, ...), reported with its own code. */
export class ProtoError extends Error {
  code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export function decodeValue(v: unknown): SqlValue {
  if (typeof v !== "object" || v === null) throw new ProtoError("A value must be an object", "ARGS_INVALID");
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case "null":
      return null;
    case "integer": {
      const s = o.value;
      if (typeof s === "number" && Number.isSafeInteger(s)) return BigInt(s);
      if (typeof s !== "string" || !/^-?\d+$/.test(s)) throw new ProtoError("Invalid integer value", "ARGS_INVALID");
      const n = BigInt(s);
      if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) {
        throw new ProtoError("Integer value out of 64-bit range", "ARGS_INVALID");
      }
      return n;
    }
    case "float":
      if (typeof o.value !== "number") throw new ProtoError("Invalid float value", "ARGS_INVALID");
      return o.value;
    case "text":
      if (typeof o.value !== "string") throw new ProtoError("Invalid text value", "ARGS_INVALID");
      return o.value;
    case "blob":
      if (typeof o.base64 !== "string") throw new ProtoError("Invalid blob value", "ARGS_INVALID");
      return Buffer.from(o.base64, "base64");
    default:
      throw new ProtoError(`Unknown value type ${JSON.stringify(o.type)}`, "ARGS_INVALID");
  }
}

export function encodeValue(v: unknown): HranaValue {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  // JSON cannot carry NaN/Infinity; sqld would not send them as floats either.
  if (typeof v === "number") return Number.isFinite(v) ? { type: "float", value: v } : { type: "null" };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  return { type: "text", value: String(v) };
}

// Primary result codes, indexed by number; extended codes keep the primary code in their low byte.
const PRIMARY_CODES = [
  "SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT", "SQLITE_BUSY",
  "SQLITE_LOCKED", "SQLITE_NOMEM", "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR",
  "SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
  "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH",
  "SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT", "SQLITE_RANGE", "SQLITE_NOTADB",
  "SQLITE_NOTICE", "SQLITE_WARNING",
];

function primaryCode(code: unknown, rawCode: unknown): string {
  if (typeof rawCode === "number" && PRIMARY_CODES[rawCode & 0xff]) return PRIMARY_CODES[rawCode & 0xff]!;
  if (typeof code === "string" && code.startsWith("SQLITE_")) {
    const match = PRIMARY_CODES.filter((p) => code === p || code.startsWith(p + "_")).sort((a, b) => b.length - a.length)[0];
    if (match) return match;
  }
  return "SQLITE_ERROR";
}

export function toHranaError(e: unknown): HranaError {
  if (e instanceof ProtoError) return { message: e.message, code: e.code };
  const err = e as { message?: unknown; code?: unknown; rawCode?: unknown };
  const message = typeof err?.message === "string" ? err.message : String(e);
  return { message: `SQLite error: ${message}`, code: primaryCode(err?.code, err?.rawCode) };
}
