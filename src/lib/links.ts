export function linkWithToken(template: string, token: string): string {
  return template.replaceAll("{token}", encodeURIComponent(token));
}
