// The outbound webhook events (README, "Integrations"). src/auth/events.ts writes each one, in the
// batch of the change that causes it; the names are here so settings can be checked against them.
export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.confirmed",
  "user.updated",
  "user.disabled",
  "user.deleted",
  "session.created",
  "session.revoked",
  "password.reset",
  "password.changed",
  "email.changed",
  "mfa.enabled",
  "mfa.disabled",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(name: string): name is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(name);
}
