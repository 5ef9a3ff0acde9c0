// localhost, 127.0.0.0/8 and [::1], with any port: names that reach only the machine they are used on.
const LOOPBACK_HOST = /^(?:localhost|127(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|\[::1\])(?::\d{1,5})?$/i;

/** Whether a host as it appears in a Host header or a URL (`name[:port]`) is this machine. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}
