// One JSON line per event. Callers pass ids, codes and counts only: never a password, a token, an
// email address or a request body.
export function logEvent(event: string, fields: Record<string, unknown>) {
  console.log(JSON.stringify({ event, time: new Date().toISOString(), ...fields }));
}
