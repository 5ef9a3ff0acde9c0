// Checks the OpenAPI document with a real OpenAPI 3.1 validator (@seriousme/openapi-schema-validator,
// the official JSON Schemas of the specification), and fails on any error.
//
//   npm run openapi:validate                     builds the document here, from src/contract/
//   npm run openapi:validate -- http://host:port  fetches GET /openapi.json from a running service
//
// Building it here: esbuild (the one wrangler brings) bundles src/contract/openapi.ts for Node, since
// the route files it imports schemas from pull in .tsx templates Node cannot load by itself.
import { build } from "esbuild";
import { Validator } from "@seriousme/openapi-schema-validator";
import { fileURLToPath } from "node:url";

async function buildHere(): Promise<unknown> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const out = await build({
    entryPoints: [`${root}src/contract/openapi.ts`],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    jsx: "automatic",
    jsxImportSource: "hono/jsx",
    loader: { ".html": "text" },
    logLevel: "error",
  });
  const code = out.outputFiles[0]!.text;
  const module = (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as { buildOpenApiDocument(options: { serverUrl?: string }): unknown };
  return module.buildOpenApiDocument({ serverUrl: "https://auth.example.com" });
}

async function fetchFrom(base: string): Promise<unknown> {
  const res = await fetch(new URL("/openapi.json", base));
  if (!res.ok) throw new Error(`GET ${base}/openapi.json answered ${res.status}`);
  return res.json();
}

const source = process.argv[2];
const document = source ? await fetchFrom(source) : await buildHere();
const validator = new Validator();
const result = await validator.validate(document as Parameters<Validator["validate"]>[0]);
const paths = Object.keys((document as { paths: object }).paths).length;
if (!result.valid) {
  console.error(`openapi: the document (${source ?? "built from src/contract/"}) is not valid OpenAPI ${validator.version}:`);
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
console.log(`openapi: valid OpenAPI ${validator.version}, ${paths} paths (${source ?? "built from src/contract/"})`);
