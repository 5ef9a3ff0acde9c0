// Runs README's "Try it" walkthrough (the block after <!-- ci: walkthrough -->) with bash against
// `npm start`, exactly as a reader would paste it, so the README cannot drift from the API. Every
// curl in it has -f: an answer that is not 2xx stops the script, and this check fails.
//   npm run readme:walkthrough   (port 8797 unless WALKTHROUGH_PORT is set; needs curl and jq)
import { spawn } from "node:child_process";
import { startLocalService } from "./local-service.ts";
import { readmeBlock } from "./readme-blocks.ts";

const PORT = Number(process.env.WALKTHROUGH_PORT ?? 8797);

function runBash(script: string, env: Record<string, string>): Promise<number | null> {
  // -e with an ERR trap names the command that failed; pipefail makes `curl … | jq` fail with curl.
  const prelude = `set -euo pipefail\ntrap 'echo "walkthrough: failed at: $BASH_COMMAND" >&2' ERR\n`;
  return new Promise((resolve, reject) => {
    const bash = spawn("bash", ["-c", prelude + script], { stdio: "inherit", env: { ...process.env, ...env } });
    bash.once("error", reject);
    bash.once("exit", resolve);
  });
}

async function main() {
  const script = readmeBlock("walkthrough");
  const service = await startLocalService(PORT);
  try {
    const code = await runBash(script, { PORT: String(PORT) });
    if (code !== 0) throw new Error(`README's walkthrough stopped with exit code ${code}`);
  } finally {
    await service.stop();
  }
}

main().then(
  () => console.log("readme walkthrough: every step answered 2xx"),
  (err) => {
    console.error(`readme walkthrough failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
