// `npm run keys -- generate`: a new Ed25519 private JWK with a fresh kid, for rotating the access-token
// signing key (README, "Rotating the signing key"). Printed alone, to paste into JWT_SIGNING_KEYS.
import { randomBytes } from "node:crypto";
import { generateSigningKeyJwk } from "../src/lib/crypto/jwt.ts";

if (process.argv[2] !== "generate") {
  console.error("usage: npm run keys -- generate");
  process.exit(2);
}
const key = await generateSigningKeyJwk(`k-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString("hex")}`);
console.log(JSON.stringify(key));
