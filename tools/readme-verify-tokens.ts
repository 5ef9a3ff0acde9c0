// Runs README's two snippets for verifying access tokens in another service (jose in Node, PyJWT in
// Python; the blocks after <!-- ci: verify-jose --> and <!-- ci: verify-pyjwt -->) against
// `npm start`. Each must print the subject of a fresh access token, and must refuse a token for
// another audience, from another issuer, expired, or of another type, so every pin is real. The
// refused tokens are signed with the service's own development key (from .data/runtime.env), so
// the only thing wrong with each is the one claim or header changed.
//   npm run readme:tokens   (port 8796 unless TOKENS_PORT is set; PYTHON names the interpreter
//   that has PyJWT and cryptography, default python3)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import { latestMailedLink, postJson, startLocalService } from "./local-service.ts";
import { readmeBlock } from "./readme-blocks.ts";

const PORT = Number(process.env.TOKENS_PORT ?? 8796);
const PYTHON = process.env.PYTHON ?? "python3";
const DIR = ".data/readme";

const snippets = [
  { name: "jose", file: `${DIR}/verify-token.mjs`, block: "verify-jose", command: process.execPath },
  { name: "PyJWT", file: `${DIR}/verify_token.py`, block: "verify-pyjwt", command: PYTHON },
];

/** The key npm start signs with this run: the first of JWT_SIGNING_KEYS in .data/runtime.env. */
async function serviceSigningKey() {
  const line = readFileSync(".data/runtime.env", "utf8").split("\n").find((l) => l.startsWith("JWT_SIGNING_KEYS="));
  if (!line) throw new Error(".data/runtime.env holds no JWT_SIGNING_KEYS");
  const jwk = (JSON.parse(line.slice("JWT_SIGNING_KEYS=".length).replace(/^'|'$/g, "")) as JWK[])[0]!;
  return { kid: jwk.kid!, key: await importJWK(jwk, "EdDSA") };
}

/** A new confirmed user's access token and id. */
async function freshAccessToken(base: string): Promise<{ token: string; userId: string }> {
  const email = `verify-${randomBytes(4).toString("hex")}@example.com`;
  const password = "correct horse battery";
  const registered = await postJson(base, "/v1/register", { email, password });
  if (registered.status !== 202) throw new Error(`register answered ${registered.status}`);
  const token = decodeURIComponent((await latestMailedLink(base, email, "confirm")).split("#token=")[1]!);
  const confirmed = await postJson(base, "/v1/confirm", { token, password });
  if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}`);
  return { token: confirmed.body.session.access_token, userId: confirmed.body.user.id };
}

function run(snippet: (typeof snippets)[number], env: Record<string, string>) {
  const result = spawnSync(snippet.command, [snippet.file], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
  if (result.error) throw new Error(`${snippet.name}: cannot run ${snippet.command}: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

async function main() {
  mkdirSync(DIR, { recursive: true });
  for (const snippet of snippets) writeFileSync(snippet.file, readmeBlock(snippet.block) + "\n");

  const service = await startLocalService(PORT);
  try {
    const base = service.base;
    const { token, userId: sub } = await freshAccessToken(base);
    const { kid, key } = await serviceSigningKey();
    const header = decodeProtectedHeader(token);
    if (header.kid !== kid) throw new Error(`the access token was signed with ${header.kid}, not ${kid} from .data/runtime.env`);
    // The same token re-signed with one thing changed.
    const resign = (changes: { typ?: string; payload?: JWTPayload }) =>
      new SignJWT({ ...decodeJwt(token), ...changes.payload })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: changes.typ ?? header.typ })
        .sign(key);
    const now = Math.floor(Date.now() / 1000);

    const cases: Array<{ what: string; accept: boolean; token: string; audience?: string }> = [
      { what: "accepts a fresh access token and prints its subject", accept: true, token },
      { what: "accepts the token re-signed unchanged (the refusals below differ in one thing each)", accept: true, token: await resign({}) },
      { what: "refuses it for another audience", accept: false, token, audience: "https://other.example.test" },
      { what: "refuses a token from another issuer", accept: false, token: await resign({ payload: { iss: "https://evil.example.test" } }) },
      { what: "refuses an expired token", accept: false, token: await resign({ payload: { iat: now - 7200, exp: now - 3600 } }) },
      { what: 'refuses a token whose typ is "JWT", not "at+jwt"', accept: false, token: await resign({ typ: "JWT" }) },
    ];
    const failures: string[] = [];
    let missingModule = false;
    for (const snippet of snippets) {
      for (const c of cases) {
        const out = run(snippet, { ISSUER: base, AUDIENCE: c.audience ?? base, ACCESS_TOKEN: c.token });
        const ok = c.accept ? out.code === 0 && out.stdout === sub : out.code !== 0 && !out.stdout.includes(sub);
        const detail = ok ? "" : ` — exit ${out.code}, stdout ${JSON.stringify(out.stdout)}, stderr:\n${out.stderr}`;
        console.log(`${ok ? "ok  " : "FAIL"} ${snippet.name}: ${c.what}${detail}`);
        if (!ok) failures.push(`${snippet.name}: ${c.what}`);
        if (/No module named|Cannot find package/.test(out.stderr)) missingModule = true;
      }
    }
    if (missingModule) {
      console.error(`The snippets need jose (npm ci) and, for ${PYTHON}, PyJWT and cryptography: on Debian,
apt-get install python3-jwt python3-cryptography, then PYTHON=/usr/bin/python3.`);
    }
    if (failures.length > 0) throw new Error(`${failures.length} case(s) failed`);
  } finally {
    await service.stop();
  }
}

main().then(
  () => console.log("readme token snippets: both verify and refuse as README says"),
  (err) => {
    console.error(`readme token snippets failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
