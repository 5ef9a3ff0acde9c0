import type { Locale, RenderedMail } from "./types.ts";
import { renderAccountDeleted, type AccountDeletedData } from "./account-deleted.tsx";
import { renderAlreadyRegistered, type AlreadyRegisteredData } from "./already-registered.tsx";
import { renderConfirmEmail, type ConfirmEmailData } from "./confirm-email.tsx";
import { renderMfaChanged, type MfaChange, type MfaChangedData } from "./mfa-changed.tsx";
import { renderEmailChangeConfirm, type EmailChangeConfirmData } from "./email-change-confirm.tsx";
import { renderEmailChangeRequested, type EmailChangeRequestedData } from "./email-change-requested.tsx";
import { renderEmailInUse, type EmailInUseData } from "./email-in-use.tsx";
import { renderPasswordChanged, type PasswordChangedData } from "./password-changed.tsx";
import { renderResetPassword, type ResetPasswordData } from "./reset-password.tsx";
import { renderUnlockCode, type UnlockCodeData } from "./unlock-code.tsx";
import { renderInvite, type InviteData } from "./invite.tsx";

export type { Locale, RenderedMail } from "./types.ts";
export type {
  AccountDeletedData,
  AlreadyRegisteredData,
  ConfirmEmailData,
  EmailChangeConfirmData,
  EmailChangeRequestedData,
  EmailInUseData,
  InviteData,
  MfaChange,
  MfaChangedData,
  PasswordChangedData,
  ResetPasswordData,
  UnlockCodeData,
};

export type TemplateName =
  | "confirm-email"
  | "already-registered"
  | "reset-password"
  | "password-changed"
  | "unlock-code"
  | "invite"
  | "email-change-confirm"
  | "email-change-requested"
  | "email-in-use"
  | "account-deleted"
  | "mfa-changed";

export interface TemplateData {
  "confirm-email": ConfirmEmailData;
  "already-registered": AlreadyRegisteredData;
  "reset-password": ResetPasswordData;
  "password-changed": PasswordChangedData;
  "unlock-code": UnlockCodeData;
  invite: InviteData;
  "mfa-changed": MfaChangedData;
  "email-change-confirm": EmailChangeConfirmData;
  "email-change-requested": EmailChangeRequestedData;
  "email-in-use": EmailInUseData;
  "account-deleted": AccountDeletedData;
}

const renderers: { [T in TemplateName]: (data: TemplateData[T], locale: Locale) => RenderedMail } = {
  "confirm-email": renderConfirmEmail,
  "already-registered": renderAlreadyRegistered,
  "reset-password": renderResetPassword,
  "password-changed": renderPasswordChanged,
  "unlock-code": renderUnlockCode,
  invite: renderInvite,
  "mfa-changed": renderMfaChanged,
  "email-change-confirm": renderEmailChangeConfirm,
  "email-change-requested": renderEmailChangeRequested,
  "email-in-use": renderEmailInUse,
  "account-deleted": renderAccountDeleted,
};

/**
 * Renders one template. Synchronous: templates are pure functions of their data and use no async
 * components, so there is nothing to await (renderDocument throws if one ever appears).
 */
export function renderEmail<T extends TemplateName>(template: T, data: TemplateData[T], locale: Locale): RenderedMail {
  return renderers[template](data, locale);
}
