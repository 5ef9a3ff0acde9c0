// The one stylesheet of the hosted pages, in the look of the mails (emails/layout.tsx): a white card
// on light grey, the app's name on top, one dark button. Mobile first; dark mode follows the
// system. BRAND_COLOR replaces the button colour in both schemes (links keep a colour that reads on
// either background).

const BASE = `
:root{color-scheme:light dark;--bg:#f4f4f5;--card:#fff;--text:#18181b;--muted:#52525b;--line:#e4e4e7;--brand:#18181b;--on-brand:#fff;--link:#2563eb;--ok:#067647;--ok-bg:#ecfdf3;--err:#b42318;--err-bg:#fef3f2}
@media (prefers-color-scheme:dark){:root{--bg:#09090b;--card:#18181b;--text:#f4f4f5;--muted:#a1a1aa;--line:#3f3f46;--brand:#f4f4f5;--on-brand:#18181b;--link:#93c5fd;--ok:#75e0a7;--ok-bg:#053321;--err:#fda29b;--err-bg:#55160c}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--text);font:16px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;-webkit-text-size-adjust:100%}
main{width:100%;max-width:30rem;margin:0 auto;padding:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem 1.25rem}
.brand{display:flex;align-items:center;gap:.5rem;margin:0 0 1.5rem;font-size:1.125rem;font-weight:600}
.brand img{display:block;max-height:2rem;max-width:12rem}
h1{margin:0 0 .75rem;font-size:1.375rem;line-height:1.3}
p{margin:0 0 1rem}
.muted{color:var(--muted);font-size:.9375rem}
label{display:block;margin:1rem 0 .375rem;font-size:.9375rem;font-weight:600}
input{display:block;width:100%;padding:.7rem .8rem;font:inherit;color:var(--text);background:var(--card);border:1px solid var(--line);border-radius:8px}
input.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.25rem;letter-spacing:.3em}
input:focus-visible,button:focus-visible,a:focus-visible{outline:2px solid var(--link);outline-offset:2px}
.button{display:flex;align-items:center;justify-content:center;gap:.6rem;width:100%;margin-top:1.5rem;padding:.8rem 1rem;font:inherit;font-weight:600;color:var(--on-brand);background:var(--brand);border:0;border-radius:8px;text-decoration:none;cursor:pointer}
.button:disabled{opacity:.75;cursor:progress}
.button[aria-busy=true]::before{content:"";width:1em;height:1em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin .8s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.button[aria-busy=true]::before{animation:none}}
.switch{display:block;margin:1.25rem auto 0;padding:.25rem;font:inherit;font-size:.9375rem;color:var(--link);background:none;border:0;text-decoration:underline;cursor:pointer}
.notice{margin:1rem 0 0;padding:.75rem 1rem;border-radius:8px;font-size:.9375rem}
.notice:empty{display:none}
.notice.error{color:var(--err);background:var(--err-bg)}
.notice.ok{color:var(--ok);background:var(--ok-bg)}
.mark{display:grid;place-items:center;width:3rem;height:3rem;margin:0 0 1rem;border-radius:50%;font-size:1.5rem;font-weight:700}
.mark.ok{color:var(--ok);background:var(--ok-bg)}
.mark.error{color:var(--err);background:var(--err-bg)}
footer{padding:.5rem 1rem 2rem;text-align:center;font-size:.875rem;color:var(--muted)}
footer a{color:inherit}
@media (min-width:40rem){main{padding-top:4rem}.card{padding:2rem}}
`;

/** Black or white, whichever reads better on the colour (WCAG relative luminance). */
function textOn(hex: string): string {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join("")}` : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return luminance > 0.18 ? "#18181b" : "#ffffff";
}

/** The stylesheet for a brand colour (a validated hex colour, see BRAND_COLOR in src/config.ts). */
export function pageStyle(brandColor: string | undefined): string {
  if (!brandColor) return BASE;
  const brand = `--brand:${brandColor};--on-brand:${textOn(brandColor)}`;
  return `${BASE}:root{${brand}}@media (prefers-color-scheme:dark){:root{${brand}}}`;
}
