import type { Locale, RenderedMail } from "./types.ts";
import { formatDuration, formatTime, greet } from "./i18n.ts";
import { ActionButton, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

// To the current address, the moment a change is asked for: what is happening, and the one link
// that stops it (or, for a while after it happened, undoes it).
export interface EmailChangeRequestedData {
  appName: string;
  name: string | null;
  newEmail: string;
  /** ISO 8601 time of the request. */
  when: string;
  /** Cancels the change; after it has happened, undoes it for `undoSeconds`. */
  link: string;
  undoSeconds: number;
}

interface Copy {
  subject: (appName: string) => string;
  intro: (appName: string, newEmail: string, when: string) => string;
  pending: string;
  notYou: string;
  action: string;
  undo: (duration: string) => string;
  wasYou: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: (appName) => `Your ${appName} email address is being changed`,
    intro: (appName, newEmail, when) => `On ${when} someone asked to change the email address of your ${appName} account to ${newEmail}.`,
    pending: "Nothing changes until that address is confirmed from its own mailbox.",
    notYou: "If this was not you, cancel the change now, then choose a new password: whoever asked knows your current one.",
    action: "Cancel the change",
    undo: (duration) =>
      `If the change has already happened, the same link undoes it for ${duration} afterwards and signs out every session.`,
    wasYou: "If it was you, there is nothing to do here.",
  },
  es: {
    subject: (appName) => `Se está cambiando tu dirección de correo de ${appName}`,
    intro: (appName, newEmail, when) => `El ${when} alguien pidió cambiar la dirección de correo de tu cuenta de ${appName} a ${newEmail}.`,
    pending: "Nada cambia hasta que esa dirección se confirme desde su propio buzón.",
    notYou: "Si no fuiste tú, cancela el cambio ahora y luego elige una nueva contraseña: quien lo pidió conoce la actual.",
    action: "Cancelar el cambio",
    undo: (duration) =>
      `Si el cambio ya se hizo, el mismo enlace lo deshace durante ${duration} y cierra todas las sesiones.`,
    wasYou: "Si fuiste tú, no tienes que hacer nada.",
  },
  "pt-BR": {
    subject: (appName) => `O e-mail da sua conta ${appName} está sendo alterado`,
    intro: (appName, newEmail, when) => `Em ${when} alguém pediu para alterar o e-mail da sua conta ${appName} para ${newEmail}.`,
    pending: "Nada muda até que esse endereço seja confirmado pela própria caixa de entrada.",
    notYou: "Se não foi você, cancele a alteração agora e depois escolha uma nova senha: quem pediu conhece a atual.",
    action: "Cancelar a alteração",
    undo: (duration) =>
      `Se a alteração já aconteceu, o mesmo link a desfaz durante ${duration} e encerra todas as sessões.`,
    wasYou: "Se foi você, não é preciso fazer nada.",
  },
};

export function renderEmailChangeRequested(data: EmailChangeRequestedData, locale: Locale): RenderedMail {
  const t = copy[locale];
  const subject = t.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = t.intro(data.appName, data.newEmail, formatTime(locale, data.when));
  const undo = t.undo(formatDuration(locale, data.undoSeconds));
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <Paragraph>{t.pending}</Paragraph>
      <Paragraph>{t.notYou}</Paragraph>
      <ActionButton href={data.link} label={t.action} locale={locale} />
      <Small>{undo}</Small>
      <Small>{t.wasYou}</Small>
    </Layout>,
  );
  const text = joinText([greeting, intro, t.pending, t.notYou, `${t.action}:\n${data.link}`, undo, t.wasYou, textFooter(locale, data.appName)]);
  return { subject, html, text };
}
