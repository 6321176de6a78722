/**
 * The shapes of the small records a run folder holds besides config.json, results.json and
 * status.json (those three have zod schemas, schema.ts): a line of checkpoints.jsonl, a rank's
 * file, a node's file. Checked field by field without loading zod (the run engine reads node files
 * at its very end), so that a value of the wrong type planted in one is a warning naming the key,
 * never a TypeError in whatever reads it later. Keys not listed are kept as they are.
 */

/** What a field may hold. `?`: may be absent; `null` in the name: may be null. */
export type FieldKind =
  | "count"
  | "count?"
  | "count|null"
  | "count|null?"
  | "number"
  | "integer?"
  | "string"
  | "string?"
  | "string|null"
  | "string|null?"
  | "strings"
  | "object"
  | "object?"
  | "numbers?";

export type Shape = Record<string, FieldKind | { list: Shape } | { object: Shape; optional?: boolean }>;

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
export const isRecordObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function fits(kind: FieldKind, value: unknown, present: boolean): boolean {
  const optional = kind.endsWith("?");
  if (!present) return optional;
  const base = optional ? kind.slice(0, -1) : kind;
  if (value === null) return base.endsWith("|null");
  switch (base.replace("|null", "")) {
    case "count":
      return isCount(value);
    case "number":
      return typeof value === "number";
    case "integer":
      return Number.isSafeInteger(value);
    case "string":
      return typeof value === "string";
    case "strings":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
    case "object":
      return isRecordObject(value);
    case "numbers":
      return isRecordObject(value) && Object.values(value).every((item) => typeof item === "number");
  }
  return false;
}

/** The first key (dotted, with [i] for list items) whose value does not fit `shape`, or null when all fit. */
export function misfit(value: unknown, shape: Shape, path = ""): string | null {
  if (!isRecordObject(value)) return path === "" ? "(the top level)" : path;
  for (const [key, kind] of Object.entries(shape)) {
    const at = path === "" ? key : `${path}.${key}`;
    const present = Object.hasOwn(value, key);
    const item = value[key];
    if (typeof kind === "string") {
      if (!fits(kind, item, present)) return at;
    } else if ("list" in kind) {
      if (!Array.isArray(item)) return at;
      for (let index = 0; index < item.length; index++) {
        const bad = misfit(item[index], kind.list, `${at}[${index}]`);
        if (bad !== null) return bad;
      }
    } else {
      if (!present && kind.optional) continue;
      const bad = misfit(item, kind.object, at);
      if (bad !== null) return bad;
    }
  }
  return null;
}
