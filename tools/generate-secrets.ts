// Prints fresh production secrets: `npm run secrets:generate`. Pipe each into `wrangler secret put`.
// To rotate the signing key, put the new key first and keep the old one after it for at least
// ACCESS_TOKEN_TTL, so tokens it signed still verify and it stays in the JWKS meanwhile.
import { randomBytes } from "node:crypto";
import { generateSigningKeyJwk } from "../src/lib/crypto/jwt.ts";

const key = await generateSigningKeyJwk(`k-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString("hex")}`);
console.log(`JWT_SIGNING_KEYS=${JSON.stringify([key])}`);
console.log(`PASSWORD_PEPPER=${randomBytes(32).toString("base64url")}`);
