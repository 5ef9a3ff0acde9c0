import { is, SQL, sql } from "drizzle-orm";

export type JsonField = string | number | boolean | null | SQL | readonly unknown[] | { readonly [key: string]: unknown };

/**
 * A JSON object built inside a statement (SQLite's json_object), so a row can record what another
 * row holds at that point of the batch. SQL values are taken as they are (wrap JSON text in json());
 * plain values are bound as parameters; arrays and objects are bound as JSON.
 */
export function jsonObjectSql(fields: Record<string, JsonField>): SQL {
  const parts = Object.entries(fields).map(([key, value]) => sql`${key}, ${jsonValue(value)}`);
  return sql`json_object(${sql.join(parts, sql`, `)})`;
}

function jsonValue(value: JsonField): SQL {
  if (value === null) return sql`null`;
  if (is(value, SQL)) return value;
  if (typeof value === "boolean" || typeof value === "object") return sql`json(${JSON.stringify(value)})`;
  return sql`${value}`;
}
