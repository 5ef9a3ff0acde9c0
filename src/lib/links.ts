// Every link the service puts in a mail or a page is built here.

/** A mailed link: the template's {token} replaced, URL-encoded. */
export function linkWithToken(template: string, token: string): string {
  return template.replaceAll("{token}", encodeURIComponent(token));
}

/**
 * The service's own hosted pages. Tokens travel in the URL fragment, which browsers never send to a
 * server nor put in a Referer.
 */
export function hostedPageLinks(publicUrl: string) {
  return {
    confirm: `${publicUrl}/confirm#token={token}`,
    reset: `${publicUrl}/reset#token={token}`,
    forgotPassword: `${publicUrl}/reset`,
    emailChangeConfirm: `${publicUrl}/email/confirm#token={token}`,
    emailChangeRevert: `${publicUrl}/email/revert#token={token}`,
  };
}
