import { Hono } from "hono";
import { and, asc, count, desc, eq, gt, gte, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import * as z from "zod";
import { recordAudit } from "../auth/audit.ts";
import { eraseAccount } from "../auth/erase-account.ts";
import { hasSecondFactor, readFactors, toFactors, toFactorsJson } from "../auth/factors.ts";
import { resetUserFactors } from "../auth/mfa-changes.ts";
import { revokeSession, revokeUserSessions } from "../auth/sessions.ts";
import { emailField, nameField, toUserJson } from "../auth/identity.ts";
import { prepareInvite } from "../auth/link-mails.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { auditEvents, registrations, sessions, suppressions, users } from "../db/schema.ts";
import type { AppEnv } from "../deps.ts";
import { needScope } from "../http/api-key.ts";
import { commitWithEvents, deliverAfterResponse, deliverWebhooksAfterResponse } from "../http/deliver-after-response.ts";
import { sessionsRevoked, userCreated, userDisabled, userUpdated } from "../auth/events.ts";
import { validateJson, validateQuery } from "../http/validate.ts";
import { decodeBase64Url, decodeUtf8, encodeBase64Url, encodeUtf8 } from "../lib/crypto/encoding.ts";
import { AppError } from "../lib/errors.ts";
import { chooseLocale } from "../lib/locale.ts";
import { randomId } from "../lib/crypto/tokens.ts";

type UserRow = typeof users.$inferSelect;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function toAdminUserJson(user: UserRow) {
  return { ...toUserJson(user), disabled: user.disabledAt !== null, updated_at: iso(user.updatedAt) };
}

// Pages in (created_at, id) order, which new users only ever extend at the end: a walk through every
// page while users are being created sees each user exactly once. The cursor is opaque to clients.
const cursorOf = (user: Pick<UserRow, "createdAt" | "id">) => encodeBase64Url(encodeUtf8(JSON.stringify([user.createdAt, user.id])));
function parseCursor(cursor: string): [number, string] {
  try {
    const [createdAt, id] = JSON.parse(decodeUtf8(decodeBase64Url(cursor))) as unknown[];
    if (typeof createdAt === "number" && typeof id === "string") return [createdAt, id];
  } catch {
    // falls through to the refusal
  }
  throw new AppError("validation_failed", "The cursor is not one this API gave out.");
}

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const isoTime = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
  email_prefix: z.string().trim().toLowerCase().min(1).max(254).optional(),
  confirmed: bool.optional(),
  disabled: bool.optional(),
  created_after: isoTime.optional(),
  created_before: isoTime.optional(),
});

/** No password verifies against this (it is no hash format), so an invited account is closed until its owner chooses one. */
const NO_PASSWORD = "!invited";

const Role = z.string().regex(/^[a-z][a-z0-9_:-]{0,31}$/, "must be 1-32 of a-z 0-9 _ : -, starting with a letter");
export const NewUser = z.object({
  email: emailField,
  name: nameField,
  roles: z.array(Role).max(20).optional(),
  locale: z.string().max(35).optional(),
});

export const UserPatch = z
  .object({
    name: z.string().trim().max(100).nullable().optional(),
    roles: z.array(Role).max(20).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "must name what to change: name, roles or disabled");

export const MfaResetBody = z.object({}).strict();

async function findUser(db: AppEnv["Variables"]["deps"]["db"], id: string): Promise<UserRow> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  if (!user) throw new AppError("not_found", "No user with that id.");
  return user;
}

// GET|POST /admin/v1/users, GET|PATCH|DELETE /admin/v1/users/:id, its sessions, audit events and mail suppression
export const adminUserRoutes = new Hono<AppEnv>()
  .get("/", needScope("users:read"), validateQuery(ListQuery), async (c) => {
    const { db } = c.var.deps;
    const q = c.req.valid("query");
    const after = q.cursor ? parseCursor(q.cursor) : null;
    const rows = await db
      .select()
      .from(users)
      .where(
        and(
          after ? or(gt(users.createdAt, after[0]), and(eq(users.createdAt, after[0]), gt(users.id, after[1]))) : undefined,
          // A prefix range on the unique index of the address.
          q.email_prefix ? and(gte(users.email, q.email_prefix), lt(users.email, `${q.email_prefix}\uffff`)) : undefined,
          q.confirmed === undefined ? undefined : q.confirmed ? isNotNull(users.emailConfirmedAt) : isNull(users.emailConfirmedAt),
          q.disabled === undefined ? undefined : q.disabled ? isNotNull(users.disabledAt) : isNull(users.disabledAt),
          q.created_after === undefined ? undefined : gte(users.createdAt, q.created_after),
          q.created_before === undefined ? undefined : lt(users.createdAt, q.created_before),
        ),
      )
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    return c.json({ users: page.map(toAdminUserJson), next_cursor: rows.length > q.limit ? cursorOf(page.at(-1)!) : null });
  })
  // An invitation: the account exists at once, with no usable password, and its owner gets a link to
  // choose one, which confirms the address. The admin API may say an address is taken (409); it is the
  // one place that may.
  .post("/", needScope("users:write"), validateJson(NewUser), async (c) => {
    const deps = c.var.deps;
    const { db, clock } = deps;
    const body = c.req.valid("json");
    const now = clock.now();
    const user: UserRow = {
      id: randomId(),
      email: body.email,
      name: body.name ?? null,
      passwordHash: NO_PASSWORD,
      roles: body.roles ?? ["user"],
      locale: chooseLocale(body.locale),
      emailConfirmedAt: null,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const invite = await prepareInvite(deps, user, now);
    // The account exists from here on (its address is confirmed when the invitation is accepted).
    const created = userCreated(db, user.id, now);
    try {
      await commitWithEvents(
        c,
        [
          db.insert(users).values(user),
          // Strangers' pending registrations of the address can never become this account.
          db.delete(registrations).where(eq(registrations.email, user.email)),
          ...invite.writes,
          recordAudit(db, "admin_user_invited", user.id, c.var.client, now, `key:${c.var.apiKey.id}`),
          created.write,
        ],
        [created],
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError("email_taken");
      throw err;
    }
    deliverAfterResponse(c, [invite.mail]);
    return c.json({ user: toAdminUserJson(user) }, 201);
  })
  .get("/:id", needScope("users:read"), async (c) => {
    const { db, clock } = c.var.deps;
    const id = c.req.param("id");
    const [userRows, live, ...factorRows] = await db.batch([
      db.select().from(users).where(eq(users.id, id)).limit(1),
      db
        .select({ n: count() })
        .from(sessions)
        .where(and(eq(sessions.userId, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, clock.now()))),
      ...readFactors(db, id),
    ]);
    const factors = toFactors(factorRows);
    const user = userRows[0];
    if (!user) throw new AppError("not_found", "No user with that id.");
    const [suppression] = await db.select().from(suppressions).where(eq(suppressions.email, user.email)).limit(1);
    return c.json({
      user: {
        ...toAdminUserJson(user),
        sessions_count: live[0]?.n ?? 0,
        mfa: { enabled: hasSecondFactor(factors), factors: toFactorsJson(factors).factors.map((f) => f.type), recovery_codes_left: factors.recoveryCodes.length },
        suppression: suppression ? { suppressed: true, reason: suppression.reason, since: iso(suppression.createdAt) } : { suppressed: false },
      },
    });
  })
  .patch("/:id", needScope("users:write"), validateJson(UserPatch), async (c) => {
    const { db, clock } = c.var.deps;
    const body = c.req.valid("json");
    const user = await findUser(db, c.req.param("id"));
    const now = clock.now();
    const actor = `key:${c.var.apiKey.id}`;
    const disabledAt = body.disabled === undefined ? user.disabledAt : body.disabled ? (user.disabledAt ?? now) : null;
    const updated: UserRow = { ...user, name: body.name === undefined ? user.name : body.name || null, roles: body.roles ?? user.roles, disabledAt, updatedAt: now };
    const becameDisabled = user.disabledAt === null && disabledAt !== null;
    const becameEnabled = user.disabledAt !== null && disabledAt === null;
    // Webhooks: user.updated names the fields that changed ("disabled" when it is enabled again),
    // user.disabled reports disabling, then session.revoked the sessions that ends.
    const changed = [
      ...(updated.name !== user.name ? ["name"] : []),
      ...(JSON.stringify(updated.roles) !== JSON.stringify(user.roles) ? ["roles"] : []),
      ...(becameEnabled ? ["disabled"] : []),
    ];
    const updatedEvent = changed.length > 0 ? userUpdated(db, user.id, changed, now) : null;
    const disabledEvent = becameDisabled ? userDisabled(db, user.id, "admin", now) : null;
    const revokedEvent = becameDisabled ? sessionsRevoked(db, user.id, "all", "user_disabled", now) : null;
    await commitWithEvents(
      c,
      [
        db.update(users).set({ name: updated.name, roles: updated.roles, disabledAt, updatedAt: now }).where(eq(users.id, user.id)),
        ...(updatedEvent ? [updatedEvent.write] : []),
        ...(disabledEvent && revokedEvent ? [disabledEvent.write, revokedEvent.write] : []),
        // A disabled account keeps no session: refresh stops at once, and so does every endpoint that reads the session.
        ...(becameDisabled ? [revokeUserSessions(db, user.id, "disabled", now)] : []),
        recordAudit(db, becameDisabled ? "admin_user_disabled" : becameEnabled ? "admin_user_enabled" : "admin_user_updated", user.id, c.var.client, now, actor),
      ],
      [updatedEvent, disabledEvent, revokedEvent].filter((event) => event !== null),
    );
    return c.json({ user: toAdminUserJson(updated) });
  })
  // Erases the user's personal data as DELETE /v1/me does (src/auth/erase-account.ts); the id stays
  // on the audit row of the deletion, with the key that made it. The owner is mailed.
  .delete("/:id", needScope("users:write"), async (c) => {
    const deps = c.var.deps;
    const user = await findUser(deps.db, c.req.param("id"));
    const now = deps.clock.now();
    const erase = await eraseAccount(deps, user, { by: "admin", actor: `key:${c.var.apiKey.id}`, client: c.var.client }, now);
    await commitWithEvents(c, erase.writes, erase.events);
    deliverAfterResponse(c, [erase.mail]);
    return c.body(null, 204);
  })
  // Removes every second factor of the user (a lost phone and no recovery codes); mailed and audited.
  .post("/:id/mfa/reset", needScope("users:write"), validateJson(MfaResetBody), async (c) => {
    const deps = c.var.deps;
    const result = await resetUserFactors(deps, c.req.param("id"), c.var.client, `key:${c.var.apiKey.id}`, deps.clock.now());
    if (!result.reset) throw new AppError("not_found", "No user has that id.");
    deliverAfterResponse(c, [result.mail]);
    deliverWebhooksAfterResponse(c, result.deliveryIds);
    return c.json({ reset: true });
  })
  .get("/:id/sessions", needScope("users:read"), async (c) => {
    const { db, clock } = c.var.deps;
    const user = await findUser(db, c.req.param("id"));
    const rows = await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt), gt(sessions.expiresAt, clock.now())))
      .orderBy(desc(sessions.createdAt));
    return c.json({
      sessions: rows.map((s) => ({ id: s.id, created_at: iso(s.createdAt), expires_at: iso(s.expiresAt), ip: s.ip, user_agent: s.userAgent })),
    });
  })
  .delete("/:id/sessions", needScope("sessions:write"), async (c) => {
    const { db, clock } = c.var.deps;
    const user = await findUser(db, c.req.param("id"));
    const now = clock.now();
    const revoked = sessionsRevoked(db, user.id, "all", "admin", now);
    await commitWithEvents(
      c,
      [revoked.write, revokeUserSessions(db, user.id, "admin", now), recordAudit(db, "admin_sessions_revoked", user.id, c.var.client, now, `key:${c.var.apiKey.id}`)],
      [revoked],
    );
    return c.body(null, 204);
  })
  .delete("/:id/sessions/:sid", needScope("sessions:write"), async (c) => {
    const { db, clock } = c.var.deps;
    const now = clock.now();
    const revoked = sessionsRevoked(db, c.req.param("id"), { sessionId: c.req.param("sid") }, "admin", now);
    const [, ended] = await commitWithEvents(
      c,
      [
        revoked.write,
        revokeSession(db, c.req.param("sid"), "admin", now, sql`${sessions.userId} = ${c.req.param("id")}`).returning({ id: sessions.id }),
        recordAudit(db, "admin_sessions_revoked", c.req.param("id"), c.var.client, now, `key:${c.var.apiKey.id}`),
      ],
      [revoked],
    );
    if (ended.length === 0) throw new AppError("not_found", "No live session with that id for that user.");
    return c.body(null, 204);
  })
  .get("/:id/events", needScope("audit:read"), async (c) => {
    const { db } = c.var.deps;
    const rows = await db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.userId, c.req.param("id")))
      .orderBy(desc(auditEvents.createdAt), desc(sql`rowid`))
      .limit(100);
    return c.json({
      events: rows.map((r) => ({ type: r.type, time: iso(r.createdAt), ip: r.ip, user_agent: r.userAgent, actor: r.actor })),
    });
  })
  .delete("/:id/suppression", needScope("users:write"), async (c) => {
    const { db, clock } = c.var.deps;
    const user = await findUser(db, c.req.param("id"));
    const now = clock.now();
    const [lifted] = await db.batch([
      db.delete(suppressions).where(eq(suppressions.email, user.email)).returning({ email: suppressions.email }),
      recordAudit(db, "admin_suppression_lifted", user.id, c.var.client, now, `key:${c.var.apiKey.id}`),
    ]);
    if (lifted.length === 0) throw new AppError("not_found", "Mail to this user is not suppressed.");
    return c.body(null, 204);
  });
