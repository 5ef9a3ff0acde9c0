import { beforeAll, describe, expect, it } from "vitest";
import { sql, type SQL } from "drizzle-orm";
import { isUniqueViolation } from "../../../src/db/errors.ts";
import { createTestService, type TestService } from "../../support/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
  const { db } = t.deps;
  await db.run(sql`insert into users (id, email, password_hash, created_at, updated_at) values ('u1', 'taken@example.test', 'h', 1, 1)`);
  await db.run(sql`insert into suppressions (email, reason, created_at) values ('bounced@example.test', 'bounce', 1)`);
  await db.run(sql`create table checked (n integer check (n > 0))`);
});

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error("the statement succeeded");
}

// Real statements against the real database, one query and inside a batch (how register and the
// Resend webhook write), because what matters is the error the libSQL client actually throws.
const CASES: Array<{ what: string; statement: SQL; unique: boolean }> = [
  {
    what: "a second row with a taken unique address",
    statement: sql`insert into users (id, email, password_hash, created_at, updated_at) values ('u2', 'taken@example.test', 'h', 1, 1)`,
    unique: true,
  },
  {
    what: "a second row with a taken primary key",
    statement: sql`insert into suppressions (email, reason, created_at) values ('bounced@example.test', 'complaint', 1)`,
    unique: true,
  },
  {
    what: "a NOT NULL column left empty",
    statement: sql`insert into users (id, email, password_hash, created_at, updated_at) values ('u3', 'new@example.test', null, 1, 1)`,
    unique: false,
  },
  {
    what: "a foreign key to no row",
    statement: sql`insert into sessions (id, user_id, created_at, expires_at) values ('s1', 'nobody', 1, 2)`,
    unique: false,
  },
  { what: "a CHECK constraint", statement: sql`insert into checked (n) values (0)`, unique: false },
  {
    // The failed query's own message quotes its parameters, which can be anyone's input.
    what: "a NOT NULL failure whose parameters quote a unique failure",
    statement: sql`insert into users (id, email, password_hash, created_at, updated_at) values ('u4', ${"UNIQUE constraint failed: users.email"}, null, 1, 1)`,
    unique: false,
  },
];

describe.each(CASES)("$what", ({ statement, unique }) => {
  it(`is ${unique ? "" : "not "}a unique violation, alone`, async () => {
    expect(isUniqueViolation(await failure(() => t.deps.db.run(statement)))).toBe(unique);
  });

  it(`is ${unique ? "" : "not "}a unique violation, in a batch`, async () => {
    const { db } = t.deps;
    expect(isUniqueViolation(await failure(() => db.batch([db.run(sql`select 1`), db.run(statement)])))).toBe(unique);
  });
});
