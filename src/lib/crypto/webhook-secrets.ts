// Webhook signing secrets in the Standard Webhooks form: "whsec_" and the base64 of the key bytes.

export const WEBHOOK_SECRET_PREFIX = "whsec_";
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** A new secret of 32 random bytes. */
export function generateWebhookSecret(bytes = 32): string {
  const key = crypto.getRandomValues(new Uint8Array(bytes));
  return `${WEBHOOK_SECRET_PREFIX}${btoa(String.fromCharCode(...key))}`;
}

/** Why a string is not a usable secret, or null. Never repeats the secret. */
export function webhookSecretProblem(secret: string): string | null {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return `must start with ${WEBHOOK_SECRET_PREFIX}`;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return `must be ${WEBHOOK_SECRET_PREFIX} followed by base64`;
  const bytes = (encoded.length / 4) * 3 - (encoded.endsWith("==") ? 2 : encoded.endsWith("=") ? 1 : 0);
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) return `must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`;
  return null;
}
