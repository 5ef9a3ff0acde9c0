import type { Locale, RenderedMail } from "./types.ts";
import { formatDuration, greet } from "./i18n.ts";
import { ActionButton, Code, joinText, Layout, Paragraph, renderDocument, Small, textFooter } from "./layout.tsx";

/** The words of a mail whose point is one expiring link (and its code), in one locale. */
export interface LinkMailCopy {
  subject: (appName: string) => string;
  intro: (appName: string) => string;
  action: string;
  /** Introduces the code, for someone who opens the page on another device or whose link breaks. */
  codeIntro?: string;
  expiry: (duration: string) => string;
  notYou: string;
}

/** What a link mail carries besides its words. */
export interface LinkMailData {
  appName: string;
  name: string | null;
  link: string;
  /** Six digits that do what the link does (typed on the page instead of following the link). */
  code?: string | null;
  /** The link's (and the code's) lifetime. */
  expiresInSeconds: number;
}

export function renderLinkMail(copy: LinkMailCopy, data: LinkMailData, locale: Locale): RenderedMail {
  const duration = formatDuration(locale, data.expiresInSeconds);
  const subject = copy.subject(data.appName);
  const greeting = greet(locale, data.name);
  const intro = copy.intro(data.appName);
  const expiry = copy.expiry(duration);
  const code = data.code && copy.codeIntro ? { intro: copy.codeIntro, value: data.code } : null;
  const html = renderDocument(
    <Layout appName={data.appName} locale={locale} title={subject}>
      <Paragraph>{greeting}</Paragraph>
      <Paragraph>{intro}</Paragraph>
      <ActionButton href={data.link} label={copy.action} locale={locale} />
      {code ? (
        <>
          <Paragraph>{code.intro}</Paragraph>
          <Code value={code.value} />
        </>
      ) : null}
      <Small>{expiry}</Small>
      <Small>{copy.notYou}</Small>
    </Layout>,
  );
  const text = joinText([
    greeting,
    intro,
    `${copy.action}:\n${data.link}`,
    code ? `${code.intro}\n${code.value}` : null,
    expiry,
    copy.notYou,
    textFooter(locale, data.appName),
  ]);
  return { subject, html, text };
}
