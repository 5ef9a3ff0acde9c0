// `npm run lint`: the house rules no type checker knows, as one step of .ci/run.
//   - layers: imports point down (tools/lint/layers.ts);
//   - production limits local workerd does not enforce (tools/lint/source-rules.ts).
import { fileURLToPath } from "node:url";
import { checkLayers } from "./layers.ts";
import { checkSourceRules } from "./source-rules.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const problems = [...checkLayers(root), ...checkSourceRules(root)];
for (const problem of problems) console.error(`lint: ${problem}`);
console.log(problems.length === 0 ? "lint: layers and source rules hold" : `lint: ${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);
