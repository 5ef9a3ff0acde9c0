import type { Locale, RenderedMail } from "./types.ts";
import { formatTime, greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

/** What happened to the account's second factors. */
export type MfaChange =
  | "totp_enabled"
  | "totp_removed"
  | "passkey_added"
  | "passkey_removed"
  | "recovery_codes_regenerated"
  | "recovery_code_used"
  | "factors_reset";

export interface MfaChangedData {
  appName: string;
  name: string | null;
  change: MfaChange;
  /** ISO 8601 time of the change. */
  when: string;
  ip: string | null;
  userAgent: string | null;
  /** Unused recovery codes left (said when one was used). */
  recoveryCodesLeft: number | null;
  resetUrl: string;
}

// Written by whoever made the change, possibly an attacker: shortened like in password-changed.
const MAX_USER_AGENT_LENGTH = 160;

interface Copy {
  subject: Record<MfaChange, (appName: string) => string>;
  what: Record<MfaChange, (appName: string) => string>;
  when: (when: string) => string;
  left: (count: number) => string;
  ip: string;
  device: string;
  notYou: string;
  action: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: {
      totp_enabled: (a) => `Two-step sign-in is on for your ${a} account`,
      totp_removed: (a) => `An authenticator app was removed from your ${a} account`,
      passkey_added: (a) => `A passkey was added to your ${a} account`,
      passkey_removed: (a) => `A passkey was removed from your ${a} account`,
      recovery_codes_regenerated: (a) => `New recovery codes for your ${a} account`,
      recovery_code_used: (a) => `A recovery code was used for your ${a} account`,
      factors_reset: (a) => `The second factors of your ${a} account were reset`,
    },
    what: {
      totp_enabled: (a) => `An authenticator app now protects your ${a} account: signing in asks for its code after the password.`,
      totp_removed: (a) => `The authenticator app was removed from your ${a} account.`,
      passkey_added: (a) => `A new passkey can now sign in to your ${a} account.`,
      passkey_removed: (a) => `A passkey was removed from your ${a} account.`,
      recovery_codes_regenerated: (a) => `New recovery codes were made for your ${a} account; the old ones no longer work.`,
      recovery_code_used: (a) => `A recovery code was used to sign in to your ${a} account. It will not work again.`,
      factors_reset: (a) => `An administrator removed every second factor from your ${a} account. Sign in with your password and set one up again.`,
    },
    when: (when) => `When: ${when}`,
    left: (count) => (count === 1 ? "You have 1 recovery code left." : `You have ${count} recovery codes left.`),
    ip: "IP address",
    device: "Device",
    notYou: "If this was not you, someone may have your password: reset it right away, which also signs out every session.",
    action: "Reset password",
  },
  es: {
    subject: {
      totp_enabled: (a) => `El inicio de sesión en dos pasos está activado en tu cuenta de ${a}`,
      totp_removed: (a) => `Se quitó una app de autenticación de tu cuenta de ${a}`,
      passkey_added: (a) => `Se añadió una llave de acceso a tu cuenta de ${a}`,
      passkey_removed: (a) => `Se quitó una llave de acceso de tu cuenta de ${a}`,
      recovery_codes_regenerated: (a) => `Nuevos códigos de recuperación para tu cuenta de ${a}`,
      recovery_code_used: (a) => `Se usó un código de recuperación en tu cuenta de ${a}`,
      factors_reset: (a) => `Se restablecieron los segundos factores de tu cuenta de ${a}`,
    },
    what: {
      totp_enabled: (a) => `Una app de autenticación protege ahora tu cuenta de ${a}: al iniciar sesión se pide su código después de la contraseña.`,
      totp_removed: (a) => `Se quitó la app de autenticación de tu cuenta de ${a}.`,
      passkey_added: (a) => `Una nueva llave de acceso puede iniciar sesión en tu cuenta de ${a}.`,
      passkey_removed: (a) => `Se quitó una llave de acceso de tu cuenta de ${a}.`,
      recovery_codes_regenerated: (a) => `Se crearon nuevos códigos de recuperación para tu cuenta de ${a}; los anteriores ya no funcionan.`,
      recovery_code_used: (a) => `Se usó un código de recuperación para iniciar sesión en tu cuenta de ${a}. No volverá a funcionar.`,
      factors_reset: (a) => `Un administrador quitó todos los segundos factores de tu cuenta de ${a}. Inicia sesión con tu contraseña y configura uno de nuevo.`,
    },
    when: (when) => `Cuándo: ${when}`,
    left: (count) => (count === 1 ? "Te queda 1 código de recuperación." : `Te quedan ${count} códigos de recuperación.`),
    ip: "Dirección IP",
    device: "Dispositivo",
    notYou: "Si no fuiste tú, alguien podría tener tu contraseña: restablécela de inmediato; así también se cerrarán todas las sesiones.",
    action: "Restablecer contraseña",
  },
  "pt-BR": {
    subject: {
      totp_enabled: (a) => `A verificação em duas etapas está ativada na sua conta ${a}`,
      totp_removed: (a) => `Um app autenticador foi removido da sua conta ${a}`,
      passkey_added: (a) => `Uma chave de acesso foi adicionada à sua conta ${a}`,
      passkey_removed: (a) => `Uma chave de acesso foi removida da sua conta ${a}`,
      recovery_codes_regenerated: (a) => `Novos códigos de recuperação para sua conta ${a}`,
      recovery_code_used: (a) => `Um código de recuperação foi usado na sua conta ${a}`,
      factors_reset: (a) => `Os segundos fatores da sua conta ${a} foram redefinidos`,
    },
    what: {
      totp_enabled: (a) => `Um app autenticador agora protege sua conta ${a}: ao entrar, o código dele é pedido depois da senha.`,
      totp_removed: (a) => `O app autenticador foi removido da sua conta ${a}.`,
      passkey_added: (a) => `Uma nova chave de acesso pode entrar na sua conta ${a}.`,
      passkey_removed: (a) => `Uma chave de acesso foi removida da sua conta ${a}.`,
      recovery_codes_regenerated: (a) => `Novos códigos de recuperação foram criados para sua conta ${a}; os antigos não funcionam mais.`,
      recovery_code_used: (a) => `Um código de recuperação foi usado para entrar na sua conta ${a}. Ele não funcionará de novo.`,
      factors_reset: (a) => `Um administrador removeu todos os segundos fatores da sua conta ${a}. Entre com sua senha e configure um novamente.`,
    },
    when: (when) => `Quando: ${when}`,
    left: (count) => (count === 1 ? "Resta 1 código de recuperação." : `Restam ${count} códigos de recuperação.`),
    ip: "Endereço IP",
    device: "Dispositivo",
    notYou: "Se não foi você, alguém pode ter sua senha: redefina-a imediatamente, o que também encerra todas as sessões.",
    action: "Redefinir senha",
  },
};

function shortenUserAgent(userAgent: string | null): string | null {
  const trimmed = userAgent?.replace(/\s+/g, " ").trim() ?? "";
  if (trimmed === "") return null;
  return trimmed.length > MAX_USER_AGENT_LENGTH ? `${trimmed.slice(0, MAX_USER_AGENT_LENGTH)}…` : trimmed;
}

export function renderMfaChanged(data: MfaChangedData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject[data.change](data.appName);
  const greeting = greet(locale, data.name);
  const what = t.what[data.change](data.appName);
  const left = data.recoveryCodesLeft === null ? null : t.left(data.recoveryCodesLeft);
  const device = shortenUserAgent(data.userAgent);
  const details = [t.when(formatTime(locale, data.when)), data.ip ? `${t.ip}: ${data.ip}` : null, device ? `${t.device}: ${device}` : null].filter(
    (line): line is string => line !== null,
  );
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{what}</Paragraph>
      {left ? <Paragraph>{left}</Paragraph> : null}
      {details.map((line) => (
        <Small>{line}</Small>
      ))}
      <Paragraph>{t.notYou}</Paragraph>
      <ActionButton href={data.resetUrl} label={t.action} locale={locale} />
    </Layout>,
  );
  const text = joinText([greeting, what, left, details.join("\n"), `${t.notYou}\n${data.resetUrl}`, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
