import { zValidator } from "@hono/zod-validator";
import type { ZodType } from "zod";
import { AppError } from "../lib/errors.ts";

// Every validation error leaves in the one error shape, listing each field's problem.
function refuse(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) {
  if (!result.success) {
    const details = (result.error?.issues ?? []).map((issue) => ({
      path: issue.path.map(String).join(".") || "(body)",
      message: issue.message,
    }));
    throw new AppError("validation_failed", undefined, { details });
  }
}

export function validateJson<T extends ZodType>(schema: T) {
  return zValidator("json", schema, refuse);
}

export function validateQuery<T extends ZodType>(schema: T) {
  return zValidator("query", schema, refuse);
}
