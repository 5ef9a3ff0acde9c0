// One account per address: trimmed, NFC-normalised, compared lower-cased.
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize("NFC").toLowerCase();
}
