/**
 * Makes a value on first use and keeps it: for what an isolate prepares once but not before a
 * request needs it (CryptoKeys), so a fresh isolate's first request pays only for the keys it uses.
 *
 * The result is kept, never a pending promise: workerd cancels a request's continuations when it
 * awaits a promise that another request created and that settles after that request has ended (the
 * request then "hangs"). So callers that come before the first result each make their own (a few
 * microseconds of key derivation, once per isolate), and the first result to arrive is the one kept.
 * A failure keeps nothing: the next call tries again.
 */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: { value: T } | undefined;
  return async () => {
    if (made) return made.value;
    const value = await make();
    made ??= { value };
    return made.value;
  };
}
