import type { Locale, RenderedMail } from "./types.ts";
import { renderAlreadyRegistered, type AlreadyRegisteredData } from "./already-registered.tsx";
import { renderConfirmEmail, type ConfirmEmailData } from "./confirm-email.tsx";
import { renderMfaChanged, type MfaChange, type MfaChangedData } from "./mfa-changed.tsx";
import { renderPasswordChanged, type PasswordChangedData } from "./password-changed.tsx";
import { renderResetPassword, type ResetPasswordData } from "./reset-password.tsx";
import { renderUnlockCode, type UnlockCodeData } from "./unlock-code.tsx";
import { renderInvite, type InviteData } from "./invite.tsx";

export type { Locale, RenderedMail } from "./types.ts";
export type { AlreadyRegisteredData, ConfirmEmailData, InviteData, MfaChange, MfaChangedData, PasswordChangedData, ResetPasswordData, UnlockCodeData };

export type TemplateName = "confirm-email" | "already-registered" | "reset-password" | "password-changed" | "unlock-code" | "invite" | "mfa-changed";

export interface TemplateData {
  "confirm-email": ConfirmEmailData;
  "already-registered": AlreadyRegisteredData;
  "reset-password": ResetPasswordData;
  "password-changed": PasswordChangedData;
  "unlock-code": UnlockCodeData;
  invite: InviteData;
  "mfa-changed": MfaChangedData;
}

const renderers: { [T in TemplateName]: (data: TemplateData[T], locale: Locale) => RenderedMail } = {
  "confirm-email": renderConfirmEmail,
  "already-registered": renderAlreadyRegistered,
  "reset-password": renderResetPassword,
  "password-changed": renderPasswordChanged,
  "unlock-code": renderUnlockCode,
  invite: renderInvite,
  "mfa-changed": renderMfaChanged,
};

/**
 * Renders one template. Synchronous: templates are pure functions of their data and use no async
 * components, so there is nothing to await (renderDocument throws if one ever appears).
 */
export function renderEmail<T extends TemplateName>(template: T, data: TemplateData[T], locale: Locale): RenderedMail {
  return renderers[template](data, locale);
}
