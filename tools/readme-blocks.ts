// README.md's runnable blocks: a fenced block that CI runs is marked by an HTML comment (invisible
// on GitHub) on the line before it, e.g.
//   <!-- ci: walkthrough -->
//   ```sh
import { readFileSync } from "node:fs";

/** The body of the fenced block right after `<!-- ci: name -->`, which must appear exactly once. */
export function readmeBlock(name: string, file = "README.md"): string {
  const text = readFileSync(file, "utf8");
  const marker = `<!-- ci: ${name} -->`;
  const at = text.indexOf(marker);
  if (at === -1 || text.includes(marker, at + 1)) throw new Error(`${file}: expected exactly one ${marker}`);
  const block = /^\s*```[\w-]*\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (!block) throw new Error(`${file}: no fenced code block right after ${marker}`);
  return block[1]!;
}
