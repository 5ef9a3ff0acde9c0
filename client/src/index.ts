// The browser client for edge-auth: register (with PKCE), confirm, log in, call APIs with the access
// token, refresh it, log out — with every tab of the app acting as one client. The access token lives
// in memory; the refresh token in the storage the app chooses; refreshing is single-flight across tabs
// (see tabs.ts), because the server ends the whole session when a rotated refresh token comes back.
import { challengeFor, createVerifier } from "./pkce.js";
import { connectTabs } from "./tabs.js";

export { challengeFor, createVerifier };

export interface User {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  email_confirmed: boolean;
  created_at: string;
}

export interface Session {
  access_token: string;
  token_type: "Bearer";
  /** When the access token expires (ms since the epoch, this browser's clock). */
  expires_at: number;
  user: User | null;
}

/** sessionStorage, localStorage or anything with the same three methods. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface AuthClientOptions {
  /** The service's origin (and path prefix, if any), e.g. "https://auth.example.com". */
  baseUrl: string;
  /** Where the refresh token and a pending PKCE verifier are kept. Default: sessionStorage. */
  storage?: TokenStorage;
  fetch?: typeof fetch;
}

/** An answer other than 2xx: the API's error code, message and details. */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
    readonly requestId?: string,
  ) {
    super(message);
  }
}

interface Tokens {
  access_token: string; // "" until the first refresh after restoring from storage
  refresh_token: string;
  expires_at: number;
}

// `version` orders the states of the session across tabs: every change (sign-in, refresh, logout) is
// made under the lock with the next number, so a tab ignores news older than what it has.
interface State {
  version: number;
  tokens: Tokens | null;
  user: User | null;
}

interface ServerSession {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

const JSON_HEADERS = { "content-type": "application/json" };
const ANSWER_WAIT_MS = 1000;
const CATCH_UP_WAIT_MS = 3000;

export type AuthClient = ReturnType<typeof createAuthClient>;

export function createAuthClient(options: AuthClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const storage = options.storage ?? sessionStorage;
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const key = `edge-auth ${base}`;
  const verifierKey = `${key} verifier`;
  const listeners = new Set<(session: Session | null) => void>();
  const waiters = new Set<() => void>();
  let state: State = { version: 0, tokens: null, user: null };
  let known = false;
  let heard = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const tabs = connectTabs(key, (message) => {
    if (message?.type === "ask") {
      if (known) tabs.post(announcement());
    } else if (message?.type === "state") {
      heard = true;
      if (message.version > state.version) apply({ version: message.version, tokens: message.tokens, user: message.user });
      for (const waiter of waiters) waiter();
    }
  });

  const announcement = () => ({ type: "state", ...state });

  const session = (): Session | null => {
    const tokens = state.tokens;
    if (!tokens?.access_token) return null;
    return { access_token: tokens.access_token, token_type: "Bearer", expires_at: tokens.expires_at, user: state.user };
  };

  function load(): State | null {
    try {
      const saved = JSON.parse(storage.getItem(key) ?? "null");
      if (typeof saved?.refresh_token !== "string") return null;
      return { version: saved.version, tokens: { access_token: "", refresh_token: saved.refresh_token, expires_at: 0 }, user: saved.user };
    } catch {
      return null;
    }
  }

  // This tab's copy of a state: memory, storage, the timer for the next refresh, the listeners.
  function apply(next: State) {
    const before = state.tokens?.access_token;
    state = next;
    const tokens = next.tokens;
    if (tokens) storage.setItem(key, JSON.stringify({ version: next.version, refresh_token: tokens.refresh_token, user: next.user }));
    else storage.removeItem(key);
    clearTimeout(timer);
    if (tokens?.access_token) {
      // Refresh before the access token expires (a minute or a fifth of its life before). Every tab
      // sets this timer; the lock makes the first one refresh and the others take its result.
      const left = tokens.expires_at - Date.now();
      timer = setTimeout(() => refreshFrom(next.version).catch(() => {}), Math.max(0, left - Math.min(60_000, left / 5)));
    }
    if (tokens?.access_token !== before) for (const listener of listeners) listener(session());
  }

  // Only while holding the lock: the next version, here and in every other tab.
  async function commitLocked(tokens: Tokens | null, user: User | null, latest: number) {
    apply({ version: Math.max(latest, state.version) + 1, tokens, user });
    // Posted before the version is written: a tab that reads the new version knows its message is sent.
    tabs.post(announcement());
    await tabs.writeVersion(state.version);
  }

  const commit = (tokens: Tokens | null, user: User | null) =>
    tabs.lock(async () => commitLocked(tokens, user, await tabs.readVersion()));

  function waitFor(done: () => boolean, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => done() && finish();
      const finish = () => {
        waiters.delete(check);
        clearTimeout(deadline);
        resolve();
      };
      const deadline = setTimeout(finish, ms);
      waiters.add(check);
      check();
    });
  }

  // Refreshes the session of `from` (a version), unless it has changed since: then whoever changed it
  // did the work. Single-flight: under the lock, and only when no tab has moved past this version.
  function refreshFrom(from: number): Promise<Session | null> {
    return tabs.lock(async () => {
      if (state.version !== from || !state.tokens) return session();
      const latest = await tabs.readVersion();
      if (latest > state.version) {
        // Another tab rotated the token; its message is on its way (or ask for it again). Presenting
        // our spent token instead would end the session.
        tabs.post({ type: "ask" });
        await waitFor(() => state.version >= latest, CATCH_UP_WAIT_MS);
        if (state.version >= latest) return session();
        // No tab answered: shared storage (localStorage) may still hold the current token.
        const stored = load();
        if (!stored || stored.version < latest) {
          apply({ version: latest, tokens: null, user: null });
          return null;
        }
        apply(stored);
      }
      const res = await postRefresh(state.tokens!.refresh_token);
      if (res.status === 401) {
        await commitLocked(null, null, latest);
        return null;
      }
      const body = await read(res);
      await commitLocked(toTokens(body.session), state.user, latest);
      return session();
    });
  }

  async function postRefresh(refreshToken: string): Promise<Response> {
    const attempt = () =>
      send(`${base}/v1/token/refresh`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ refresh_token: refreshToken }) });
    // No answer (network error) or a 5xx: the server may have rotated the token all the same. Retry
    // once with the SAME token, never another: a server that returns the same successor for a retry
    // within a short grace keeps the session; one without that grace sees a reuse and answers 401.
    const first = await attempt().catch(() => null);
    return first && first.status < 500 ? first : attempt();
  }

  async function post(path: string, body: unknown) {
    return read(await send(base + path, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) }));
  }

  async function signedIn(body: { user: User; session: ServerSession }) {
    await commit(toTokens(body.session), body.user);
    return session()!;
  }

  /** fetch with the access token; on 401 refreshes once (for every tab) and sends the request again. */
  async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    await ready;
    const request = new Request(typeof input === "string" && input.startsWith("/") ? base + input : input, init);
    const attempt = () => {
      const copy = request.clone();
      if (state.tokens) copy.headers.set("authorization", `Bearer ${state.tokens.access_token}`);
      return send(copy);
    };
    if (state.tokens && !state.tokens.access_token) await refreshFrom(state.version).catch(() => {});
    const used = state.version;
    const hadToken = Boolean(state.tokens);
    const res = await attempt();
    if (res.status !== 401 || !hadToken) return res;
    await refreshFrom(used);
    return state.tokens ? attempt() : res;
  }

  // A new tab takes the session from the others (no refresh call), or else refreshes the one in storage.
  const ready = (async () => {
    if (await tabs.othersPresent) {
      tabs.post({ type: "ask" });
      await waitFor(() => heard, ANSWER_WAIT_MS);
    }
    const stored = load();
    if (stored && stored.version > state.version) {
      apply(stored);
      // Offline now: keep the stored token for a later try.
      await refreshFrom(stored.version).catch(() => {});
    }
    known = true;
  })();

  return {
    /** Resolves with the session (or null) once this tab knows it. */
    ready: ready.then(session),
    get session() {
      return session();
    },
    get user() {
      return state.tokens ? state.user : null;
    },
    /** Whether a PKCE verifier from register() is kept here, so confirm(token) needs no password. */
    get hasVerifier() {
      return Boolean(storage.getItem(verifierKey));
    },
    /** Called once the session is known, then at every change (new tokens, login, logout). */
    onChange(listener: (session: Session | null) => void): () => void {
      listeners.add(listener);
      void ready.then(() => listeners.has(listener) && listener(session()));
      return () => listeners.delete(listener);
    },
    async register(input: { email: string; password: string; name?: string; locale?: string }): Promise<{ message: string }> {
      const verifier = createVerifier();
      const answer = await post("/v1/register", { ...input, code_challenge: await challengeFor(verifier) });
      storage.setItem(verifierKey, verifier);
      return answer;
    },
    /** With the verifier kept by register() in this storage; with `password` when given (another browser). */
    async confirm(token: string, { password }: { password?: string } = {}): Promise<Session> {
      const verifier = storage.getItem(verifierKey);
      const proof = password ? { password } : verifier ? { code_verifier: verifier } : {};
      const body = await post("/v1/confirm", { token, ...proof });
      storage.removeItem(verifierKey);
      return signedIn(body);
    },
    async login(input: { email: string; password: string; unlockCode?: string }): Promise<Session> {
      return signedIn(await post("/v1/login", { email: input.email, password: input.password, unlock_code: input.unlockCode }));
    },
    /** Ends the session at the server (`all`: every session of the user) and in every tab. */
    async logout({ all = false }: { all?: boolean } = {}): Promise<void> {
      await ready;
      const res = state.tokens
        ? await authFetch("/v1/logout", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ all }) }).catch((err: unknown) => err)
        : null;
      await commit(null, null);
      if (res instanceof Response && res.status !== 401) await read(res);
      else if (res && !(res instanceof Response)) throw res;
    },
    forgotPassword: (email: string): Promise<{ message: string }> => post("/v1/password/forgot", { email }),
    resetPassword: (token: string, password: string): Promise<{ message: string }> => post("/v1/password/reset", { token, password }),
    /** The server ends every other session and answers with a new one for this client. */
    async changePassword(currentPassword: string, newPassword: string): Promise<Session> {
      const res = await authFetch("/v1/password/change", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ current_password: currentPassword, new_password: newPassword }),
      });
      const body = await read(res);
      await commit(toTokens(body.session), state.user);
      return session()!;
    },
    /** New tokens now, unless another tab got them since this call (then those). */
    refresh: async (): Promise<Session | null> => {
      await ready;
      return refreshFrom(state.version);
    },
    fetch: authFetch,
  };
}

function toTokens(session: ServerSession): Tokens {
  return { access_token: session.access_token, refresh_token: session.refresh_token, expires_at: Date.now() + session.expires_in * 1000 };
}

async function read(res: Response): Promise<any> {
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.ok) return body;
  const error = body?.error ?? {};
  throw new AuthError(res.status, error.code ?? `http_${res.status}`, error.message ?? res.statusText, error.details, error.request_id);
}
