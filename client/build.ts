// Builds the browser SDK: src/*.ts bundled by esbuild into one ES module, dist/edge-auth.js, which is
// what the package exports and what the example SPA loads. Prints its size and fails at 6 KiB gzipped
// or more. Run: npm run build (here) or npm run build:client (repository root; npm start, npm test and
// npm run bundle run it first). esbuild is the one wrangler brings into the root node_modules.
import { build, type BuildOptions } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const LIMIT_GZIP_BYTES = 6 * 1024;
const root = fileURLToPath(new URL(".", import.meta.url));
const options: BuildOptions = {
  entryPoints: [`${root}src/index.ts`],
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  legalComments: "none",
  write: false,
};

const [shipped, minified] = await Promise.all([build(options), build({ ...options, minify: true })]);
const code = shipped.outputFiles![0]!.contents;
mkdirSync(`${root}dist`, { recursive: true });
writeFileSync(`${root}dist/edge-auth.js`, code);

const gzipped = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length;
const small = minified.outputFiles![0]!.contents;
console.log(
  `client/dist/edge-auth.js: ${code.length} bytes, ${gzipped(code)} bytes gzipped (limit ${LIMIT_GZIP_BYTES}); ` +
    `minified as an app's bundler would: ${small.length} bytes, ${gzipped(small)} gzipped`,
);
if (gzipped(code) >= LIMIT_GZIP_BYTES) {
  console.error("the SDK is over its size budget");
  process.exit(1);
}
