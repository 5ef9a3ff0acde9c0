import type { Locale, RenderedMail } from "./types.ts";
import { formatTime, greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

export interface PasswordChangedData {
  appName: string;
  name: string | null;
  /** ISO 8601 time of the change. */
  when: string;
  ip: string | null;
  userAgent: string | null;
  resetUrl: string;
}

// The user agent comes from whoever changed the password (possibly an attacker), so it is
// shortened to keep a crafted header from filling the mail with text of its own.
const MAX_USER_AGENT_LENGTH = 160;

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string, when: string) => string;
  ip: string;
  device: string;
  wasYou: string;
  notYou: string;
  action: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Your ${appName} password was changed`,
    intro: (appName, when) => `The password of your ${appName} account was changed on ${when}.`,
    ip: "IP address",
    device: "Device",
    wasYou: "If this was you, there is nothing else to do.",
    notYou:
      "If it was not you, someone may have access to your account: reset your password right away, which also signs out every other session.",
    action: "Reset password",
  },
  es: {
    subject: (appName) => `Se cambió tu contraseña de ${appName}`,
    intro: (appName, when) => `La contraseña de tu cuenta de ${appName} se cambió el ${when}.`,
    ip: "Dirección IP",
    device: "Dispositivo",
    wasYou: "Si fuiste tú, no tienes que hacer nada más.",
    notYou:
      "Si no fuiste tú, alguien podría tener acceso a tu cuenta: restablece tu contraseña de inmediato; así también se cerrarán las demás sesiones.",
    action: "Restablecer contraseña",
  },
  "pt-BR": {
    subject: (appName) => `A senha da sua conta ${appName} foi alterada`,
    intro: (appName, when) => `A senha da sua conta ${appName} foi alterada em ${when}.`,
    ip: "Endereço IP",
    device: "Dispositivo",
    wasYou: "Se foi você, não é preciso fazer mais nada.",
    notYou:
      "Se não foi você, alguém pode ter acesso à sua conta: redefina sua senha imediatamente, o que também encerra todas as outras sessões.",
    action: "Redefinir senha",
  },
};

function shortenUserAgent(userAgent: string | null): string | null {
  const trimmed = userAgent?.replace(/\s+/g, " ").trim() ?? "";
  if (trimmed === "") return null;
  return trimmed.length > MAX_USER_AGENT_LENGTH ? `${trimmed.slice(0, MAX_USER_AGENT_LENGTH)}…` : trimmed;
}

export function renderPasswordChanged(data: PasswordChangedData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName, formatTime(locale, data.when));
  const device = shortenUserAgent(data.userAgent);
  const details = [data.ip ? `${t.ip}: ${data.ip}` : null, device ? `${t.device}: ${device}` : null].filter(
    (line): line is string => line !== null,
  );
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      {details.map((line) => (
        <Small>{line}</Small>
      ))}
      <Paragraph>{t.wasYou}</Paragraph>
      <Paragraph>{t.notYou}</Paragraph>
      <ActionButton href={data.resetUrl} label={t.action} locale={locale} />
    </Layout>,
  );
  const text = joinText([
    greeting,
    intro,
    details.join("\n"),
    t.wasYou,
    `${t.notYou}\n${data.resetUrl}`,
    textFooter(locale, data.appName),
  ]);
  return { subject, html, text };
}
