// libSQL reports constraint failures with the base code SQLITE_CONSTRAINT; drizzle may wrap the
// client's error, so look through `cause`.
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    if (code === "SQLITE_CONSTRAINT" || (typeof message === "string" && message.includes("UNIQUE constraint failed"))) {
      return true;
    }
  }
  return false;
}
