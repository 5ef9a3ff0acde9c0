// Stands in for postal-mime in the bundle (wrangler.toml [alias]). The resend SDK imports it at the
// top of its module for one method, `emails.receiving.forward`, which parses a received raw mail;
// edge-auth never receives mail, so that method is never called and the 71 KiB parser stays out
// (test/api/mail/bundle-stubs.test.ts runs the SDK paths we use with this stub in place). Should a
// future SDK need the parser on a path we do take, this throws instead of mis-parsing.
export default class PostalMime {
  static parse(): never {
    throw new Error("postal-mime is not in this Worker's bundle (wrangler.toml [alias])");
  }
}
