import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { Webhook } from "standardwebhooks";
import { readmeBlock } from "../../tools/readme-blocks.ts";

// README's receiver example (the block after <!-- ci: webhook-receiver -->), run as written.
const secret = `whsec_${randomBytes(32).toString("base64")}`;
let child: ChildProcess;
let url: string;
let stdout = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

beforeAll(async () => {
  mkdirSync(".data/readme", { recursive: true });
  const file = ".data/readme/webhook-receiver.mjs";
  writeFileSync(file, readmeBlock("webhook-receiver"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  child = spawn(process.execPath, [file], { env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  // Until it listens: a refused connection means "not yet".
  for (let tries = 0; ; tries++) {
    const res = await fetch(url, { method: "POST", body: "{}" }).catch(() => null);
    if (res) break;
    if (tries > 100 || child.exitCode !== null) throw new Error("README's receiver did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(() => {
  child?.kill();
});

const body = JSON.stringify({
  type: "user.created",
  timestamp: new Date().toISOString(),
  data: { event_id: "msg_readme", sequence: 3, user: { id: "user-1", email: "ana@example.com" } },
});

function send(payload: string, signedPayload = payload) {
  const at = new Date();
  return fetch(url, {
    method: "POST",
    body: payload,
    headers: {
      "content-type": "application/json",
      "webhook-id": "msg_readme",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("msg_readme", at, signedPayload),
    },
  });
}

describe("README's webhook receiver", () => {
  it("accepts a signed message (204) and prints it", async () => {
    expect((await send(body)).status).toBe(204);
    // The receiver answers before its console line reaches our pipe: wait for the line, not a time.
    await vi.waitFor(() => expect(stdout).toContain("msg_readme user.created 3 user-1"), { timeout: 10_000 });
  });

  it("refuses a tampered one (400)", async () => {
    expect((await send(body.replace("user.created", "user.deleted"), body)).status).toBe(400);
  });
});
