import { renderSVG } from "uqr";

/** An SVG QR code of `text` (the otpauth:// URI), for an SPA to show as an image. */
export function qrSvg(text: string): string {
  return renderSVG(text, { ecc: "M", border: 2 });
}
