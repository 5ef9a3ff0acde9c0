import { validator } from "hono/validator";
import type * as z from "zod/mini";
import { AppError } from "../lib/errors.ts";
import { ENGLISH } from "../lib/zod.ts";

// Every body validation error leaves in the one error shape, listing each field's problem.
export function validateJson<T extends z.ZodMiniType>(schema: T) {
  return validator("json", (value): z.output<T> => {
    const result = schema.safeParse(value, ENGLISH);
    if (!result.success) {
      const details = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || "(body)",
        message: issue.message,
      }));
      throw new AppError("validation_failed", undefined, { details });
    }
    return result.data;
  });
}
