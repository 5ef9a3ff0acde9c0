// What the tabs of one origin use to act as one client: a Web Lock, so that one tab at a time changes
// the session (and only one refreshes it); a BroadcastChannel, to hand the result to the others; and
// a version number in IndexedDB, which tells the lock holder whether another tab moved on already.
//
// Why IndexedDB for that one number: the lock holder must see what the previous holder wrote before
// it released the lock. A BroadcastChannel message may still be on its way, sessionStorage belongs to
// one tab, and localStorage is cached per renderer process and updated asynchronously (Chromium), so
// none of them guarantees it. A committed IndexedDB transaction is read by every later transaction,
// from any tab. Only the version is stored there, no token.

export interface Tabs {
  /** Runs fn while no other tab (and no other call in this tab) holds this client's lock. */
  lock<T>(fn: () => Promise<T>): Promise<T>;
  /** Sends a message to this client's instances in the other tabs. */
  post(message: unknown): void;
  /** The newest session version committed by any tab (0 when none is known). */
  readVersion(): Promise<number>;
  writeVersion(version: number): Promise<void>;
  /** Whether another tab had a client of this name when this one started. */
  othersPresent: Promise<boolean>;
}

export function connectTabs(name: string, onMessage: (message: any) => void): Tabs {
  const locks = globalThis.navigator?.locks;
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  if (channel) channel.onmessage = (event) => onMessage(event.data);

  // Every client holds a shared "presence" lock for its lifetime; the browser frees it when the tab
  // goes. Asking first tells a new tab whether anyone could answer it, so a lone tab does not wait.
  const presence = `${name} presence`;
  const othersPresent = locks
    ? locks.query().then((state) => Boolean(state.held?.some((held) => held.name === presence)), () => false)
    : Promise.resolve(false);
  void othersPresent.then(() => locks?.request(presence, { mode: "shared" }, () => new Promise(() => {})));

  // Without Web Locks (old browsers) calls in this tab still go one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const lock = <T>(fn: () => Promise<T>): Promise<T> => {
    if (locks) return locks.request(name, fn) as Promise<T>;
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  const database = openDatabase();
  const inStore = async <T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>) => {
    const db = await database;
    if (!db) return undefined;
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction("versions", mode);
      const request = op(tx.objectStore("versions"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  };

  return {
    lock,
    post: (message) => channel?.postMessage(message),
    readVersion: async () => Number((await inStore("readonly", (store) => store.get(name)).catch(() => 0)) ?? 0),
    writeVersion: async (version) => {
      await inStore("readwrite", (store) => store.put(version, name)).catch(() => {});
    },
    othersPresent,
  };
}

// Null where IndexedDB is unavailable: then tabs rely on the channel alone, which is right unless a
// message is slower than the lock (see above).
function openDatabase(): Promise<IDBDatabase | null> {
  return new Promise((resolve) => {
    try {
      const request = indexedDB.open("edge-auth", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("versions");
      request.onsuccess = () => resolve(request.result);
      request.onerror = request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}
