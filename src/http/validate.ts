import { zValidator } from "@hono/zod-validator";
import type * as z from "zod";
import { AppError } from "../lib/errors.ts";

// What a person reads for each kind of zod issue, as the end of a sentence that starts with the
// field's name ("email is required", "password must be a string"). Messages a schema writes itself
// ("must be an email address") win over these, and are written in the same voice.
const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a JSON object",
  array: "a list",
};

function size(origin: string, bound: number | bigint): string {
  if (origin === "string") return `${bound} character${bound === 1 ? "" : "s"}`;
  if (origin === "array" || origin === "set") return `${bound} item${bound === 1 ? "" : "s"}`;
  return String(bound);
}

function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "is required" : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
      return `must be at least ${size(issue.origin, issue.minimum)}`;
    case "too_big":
      return `must be at most ${size(issue.origin, issue.maximum)}`;
    case "invalid_format":
      if (issue.format === "email") return "must be an email address";
      if (issue.format === "url") return "must be a URL";
      if (issue.format === "datetime") return "must be a date and time such as 2026-01-15T09:30:00Z";
      return "is not in the expected format";
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      return values.length > 2 ? `must be one of ${values.join(", ")}` : `must be ${values.join(" or ")}`;
    }
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `has unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.join(", ")}`;
    default:
      return "is not valid";
  }
}

// Every validation error leaves in the one error shape, listing each field's problem as a sentence
// about that field; `root` and `whole` name what a problem of no one field is about.
function refuse(root: string, whole: string) {
  return (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) => {
    if (!result.success) {
      const details = (result.error?.issues ?? []).map((issue) => {
        const path = issue.path.map(String).join(".");
        return { path: path || root, message: `${path || whole} ${issue.message}` };
      });
      throw new AppError("validation_failed", undefined, { details });
    }
  };
}

// zod's default messages are replaced for this parse only (a schema's own messages still win). The
// cast: zValidator types this option by a conditional on T, which TypeScript cannot resolve here.
const inPeoplesWords = { validationFunction: ((s: z.ZodType, value: unknown) => s.safeParseAsync(value, { error: describeIssue })) as never };

export function validateJson<T extends z.ZodType>(schema: T) {
  return zValidator("json", schema, refuse("(body)", "the request body"), inPeoplesWords);
}

export function validateQuery<T extends z.ZodType>(schema: T) {
  return zValidator("query", schema, refuse("(query)", "the query"), inPeoplesWords);
}
