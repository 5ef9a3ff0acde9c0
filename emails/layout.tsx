import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { Locale } from "./types.ts";
import { sharedCopy } from "./i18n.ts";

// Mail clients drop <style> blocks and external CSS, so every style is inline.
const styles = {
  body: "margin:0;padding:0;background:#f4f4f5;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#18181b;",
  card: "max-width:560px;margin:24px auto;padding:32px;background:#ffffff;border-radius:8px;",
  appName: "margin:0 0 24px;font-size:18px;font-weight:600;",
  paragraph: "margin:0 0 16px;font-size:15px;line-height:1.5;",
  button:
    "display:inline-block;padding:12px 20px;background:#18181b;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;",
  small: "margin:0 0 8px;font-size:13px;line-height:1.5;color:#52525b;",
  link: "color:#2563eb;word-break:break-all;",
  code: "margin:8px 0 16px;font-size:28px;font-weight:700;letter-spacing:6px;font-family:ui-monospace,Menlo,Consolas,monospace;",
  footer: "margin:24px 0 0;font-size:12px;color:#71717a;",
} as const;

interface LayoutProps {
  appName: string;
  locale: Locale;
  title: string;
  children?: Child;
}

export function Layout({ appName, locale, title, children }: LayoutProps) {
  return (
    <html lang={locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
      </head>
      <body style={styles.body}>
        <div style={styles.card}>
          <p style={styles.appName}>{appName}</p>
          {children}
          <p style={styles.footer}>{sharedCopy(locale).automated(appName)}</p>
        </div>
      </body>
    </html>
  );
}

export function Paragraph({ children }: { children?: Child }) {
  return <p style={styles.paragraph}>{children}</p>;
}

export function Small({ children }: { children?: Child }) {
  return <p style={styles.small}>{children}</p>;
}

/** A button plus the raw link underneath, for clients that do not render the button. */
export function ActionButton({ href, label, locale }: { href: string; label: string; locale: Locale }) {
  return (
    <>
      <p style={styles.paragraph}>
        <a href={href} style={styles.button}>
          {label}
        </a>
      </p>
      <p style={styles.small}>{sharedCopy(locale).linkFallback}</p>
      <p style={styles.small}>
        <a href={href} style={styles.link}>
          {href}
        </a>
      </p>
    </>
  );
}

/** A code to type, large and spaced so it reads easily. */
export function Code({ value }: { value: string }) {
  return <p style={styles.code}>{value}</p>;
}

/** Serialises a template to an HTML document; templates are synchronous so rendering is too. */
export function renderDocument(element: JSX.Element): string {
  // The test of hono/jsx's isValidElement, which would bring hono's client-side renderer (7 KiB
  // gzipped) into the Worker with it.
  const isElement = typeof element === "object" && element !== null && "tag" in element && "props" in element;
  if (!isElement) throw new Error("email template did not return a JSX element");
  const html = element.toString();
  if (typeof html !== "string") throw new Error("email templates must not use async components");
  return `<!doctype html>${html}`;
}

/** Joins the blocks of the plain-text part, one blank line apart, dropping empty ones. */
export function joinText(blocks: Array<string | null | false>): string {
  return `${blocks.filter((block): block is string => typeof block === "string" && block !== "").join("\n\n")}\n`;
}

/** The plain-text footer, matching the HTML one. */
export function textFooter(locale: Locale, appName: string): string {
  return `-- \n${sharedCopy(locale).automated(appName)}`;
}
