/// <reference types="node" />
// One database file plus its connections and its write lock.
import Libsql from "libsql";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { applyMigrations, readMigrations } from "./migrations.ts";
import { ProtoError } from "./values.ts";

export type Conn = InstanceType<typeof Libsql>;

const MAX_IDLE_CONNS = 4;

/**
 * Every SQLite call here is synchronous, so a connection that waited on SQLite's own lock would freeze the
 * event loop while the holder (another stream in this process) could never commit. Instead, a stream that
 * may write takes this lock before touching the database and keeps it for as long as its connection is
 * inside a transaction; everyone else waits asynchronously. Waiters are served first come, first served.
 */
export class WriteLock {
  owner: object | null = null;
  private waiters: { owner: object; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];

  acquire(owner: object, timeoutMs: number): Promise<void> {
    if (this.owner === owner) return Promise.resolve();
    if (this.owner === null && this.waiters.length === 0) {
      this.owner = owner;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        owner,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new ProtoError("SQLite error: database is locked", "SQLITE_BUSY"));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  release(owner: object): void {
    if (this.owner !== owner) return;
    const next = this.waiters.shift();
    this.owner = next ? next.owner : null;
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    }
  }

  failAll(error: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.owner = null;
  }
}

export class LocalDatabase {
  name: string;
  path: string;
  lock = new WriteLock();
  private idle: Conn[] = [];
  private temporary: boolean;

  /** Opens (creating if needed) the database file and applies pending migrations from `migrationsDir`. */
  constructor(name: string, path: string, temporary: boolean, migrationsDir: string | undefined, log: (line: string) => void) {
    this.name = name;
    this.path = path;
    this.temporary = temporary;
    mkdirSync(dirname(path), { recursive: true });
    const conn = this.connect();
    // WAL lets read-only statements run without the write lock while another stream holds a transaction open.
    conn.exec("PRAGMA journal_mode = WAL");
    if (migrationsDir) {
      const applied = applyMigrations(conn, readMigrations(migrationsDir));
      if (applied.length > 0) log(`database ${name}: applied migrations ${applied.join(", ")}`);
    }
    this.release(conn);
  }

  private connect(): Conn {
    const conn = new Libsql(this.path);
    conn.defaultSafeIntegers(true);
    // Only other processes (e.g. a migration script on the same file) can make us wait on SQLite's lock.
    conn.exec("PRAGMA busy_timeout = 1000");
    if (this.temporary) conn.exec("PRAGMA synchronous = OFF");
    return conn;
  }

  acquire(): Conn {
    return this.idle.pop() ?? this.connect();
  }

  release(conn: Conn): void {
    try {
      if (conn.inTransaction) conn.exec("ROLLBACK");
      if (this.idle.length < MAX_IDLE_CONNS) {
        this.idle.push(conn);
        return;
      }
    } catch {
      // A connection that cannot roll back is not reusable; fall through and close it.
    }
    conn.close();
  }

  close(): void {
    this.lock.failAll(new ProtoError("Server is shutting down", "SERVER_CLOSED"));
    for (const conn of this.idle.splice(0)) conn.close();
  }
}
