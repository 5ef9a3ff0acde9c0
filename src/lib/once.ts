/**
 * Runs `make` on the first call and hands every caller that same promise; a failure is not kept, so
 * the next call tries again. For what an isolate prepares once but not before a request needs it
 * (CryptoKeys): a fresh isolate's first request then pays only for the keys it uses.
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (!made) {
      const attempt = make();
      made = attempt;
      attempt.catch(() => {
        if (made === attempt) made = undefined;
      });
    }
    return made;
  };
}
