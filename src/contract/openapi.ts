import * as z from "zod";
import { operations, type Answer, type Operation } from "./operations.ts";
import { WEBHOOK_EVENT_TYPES } from "../lib/webhook-events.ts";
import { responseSchemas } from "./responses.ts";

// The OpenAPI 3.1 document, built from the operations table: request bodies and queries are the
// zod schemas the routes validate with (as clients send them: io "input", before transforms),
// responses the zod schemas of src/contract/responses.ts. JSON Schema 2020-12, which 3.1 speaks.

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  return rest;
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

function response(status: number, answer: Answer) {
  if ("codes" in answer) {
    const codes = answer.codes.map((c) => `\`${c}\``).join(", ");
    return {
      description: answer.description ? `${answer.description} (${codes})` : codes,
      ...(status === 429 ? { headers: { "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } } } } : {}),
      content: {
        "application/json": {
          schema: { allOf: [ERROR_REF, { properties: { error: { properties: { code: { enum: answer.codes } } } } }] },
          example: { error: { code: answer.codes[0], message: "…", request_id: "8f14e45f-ceea-467f-a0e6-0c9b1b5e1c3d" } },
        },
      },
    };
  }
  if (!answer.body) {
    return { description: answer.description, ...(answer.contentType ? { content: { [answer.contentType]: { schema: { type: "string" } } } } : {}) };
  }
  return {
    description: answer.description,
    content: { "application/json": { schema: jsonSchema(answer.body, "output"), ...(answer.example !== undefined ? { example: answer.example } : {}) } },
  };
}

function queryParameters(query: z.ZodType) {
  const schema = jsonSchema(query, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }));
}

const SECURITY = {
  user: [{ accessToken: [] }],
  admin: [{ adminKey: [] }],
  // Enrolment under MFA_REQUIRED: the mfa_token in the body stands in for the access token.
  "user-or-mfa-token": [{ accessToken: [] }, {}],
} as const;

function operation(op: Operation) {
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  const parameters = [...pathParams, ...(op.query ? queryParameters(op.query) : [])];
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    security: op.security ? SECURITY[op.security] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(op.body, "input"), ...(op.bodyExample !== undefined ? { example: op.bodyExample } : {}) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(op.responses).map(([status, answer]) => [status, response(Number(status), answer)])),
  };
}

export function buildOpenApiDocument(options: { serverUrl?: string } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations()) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: "3.1.1",
    info: {
      title: "edge-auth",
      version: "1",
      description:
        "Email + password authentication for single-page apps. Every error has one shape (`Error`). Besides what each operation lists, " +
        "another method on a listed path answers 405 `method_not_allowed` with an `Allow` header, and a path not listed here 404 `not_found`.",
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: ["Sign-up", "Session", "Password", "Second factors", "Account", "Admin", "Service", "Pages", "Webhooks"].map((name) => ({ name })),
    paths,
    // What we POST to the endpoints in WEBHOOK_ENDPOINTS (README, "Integrations"), signed with
    // Standard Webhooks' webhook-id / webhook-timestamp / webhook-signature headers.
    webhooks: Object.fromEntries(
      WEBHOOK_EVENT_TYPES.map((type) => [
        type,
        {
          post: {
            operationId: `webhook_${type.replace(".", "_")}`,
            summary: `The ${type} event.`,
            tags: ["Webhooks"],
            requestBody: { required: true, content: { "application/json": { schema: jsonSchema(responseSchemas().webhookPayload(type), "output") } } },
            responses: { "2XX": { description: "Received; any other answer is retried." } },
          },
        },
      ]),
    ),
    components: {
      schemas: { Error: jsonSchema(responseSchemas().ErrorBody, "output") },
      securitySchemes: {
        accessToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A user's access token (typ at+jwt, EdDSA), from login, confirm or refresh." },
        adminKey: { type: "http", scheme: "bearer", bearerFormat: "ea_<env>_…", description: "An admin API key (Admin API only; never in a query string)." },
      },
    },
  };
}
