/**
 * Turns what a user hands to saveConfig/saveResults into plain JSON data, or says exactly which
 * key cannot be stored. JSON.stringify would silently drop functions, turn Maps into {} and
 * throw an unhelpful TypeError on BigInt or cycles; here each of those is an INVALID_CONFIG
 * error naming the key path.
 */
import { ConfigTrackerError } from "./errors.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 1000;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function keyPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function invalid(path: string, what: string, hint: string): ConfigTrackerError {
  return new ConfigTrackerError("INVALID_CONFIG", `${path}: ${what} cannot be stored in JSON${hint ? `: ${hint}` : ""}`, {
    key: path,
  });
}

/**
 * Converts `value` (found at key path `path`) to JSON data. Dates become ISO strings; objects
 * with toJSON (other than Date) are converted the way JSON.stringify converts them; undefined
 * properties are left out, as JSON.stringify leaves them out. Non-finite numbers stay numbers:
 * they are written as Python writes them.
 */
export function toJsonValue(value: unknown, path: string): JsonValue {
  return convert(value, path, [], 0);
}

function convert(value: unknown, path: string, ancestors: object[], depth: number): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "number":
      return value;
    case "bigint":
      return fail(invalid(path, `BigInt ${value}n`, "convert it with Number() or String()"));
    case "function":
      return fail(invalid(path, "a function", "store its name or result instead"));
    case "symbol":
      return fail(invalid(path, String(value), "use a string"));
    case "undefined":
      return fail(invalid(path, "undefined", "use null"));
  }
  if (value === null) return null;
  const object = value as object;
  if (depth >= MAX_DEPTH) throw invalid(path, `a value nested deeper than ${MAX_DEPTH} levels`, "");
  if (ancestors.includes(object)) throw invalid(path, "a circular reference", "");

  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw invalid(path, "an invalid Date", "");
    return object.toISOString();
  }
  if (object instanceof Map) throw invalid(path, "a Map", "convert it with Object.fromEntries(map)");
  if (object instanceof Set) throw invalid(path, "a Set", "convert it with Array.from(set)");
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    throw invalid(path, `a ${object.constructor.name}`, "convert it with Array.from()");
  }
  if (object instanceof RegExp) throw invalid(path, "a RegExp", "store its .source");
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
    const key = path.slice(path.lastIndexOf(".") + 1);
    return convert((object as { toJSON(key: string): unknown }).toJSON(key), path, ancestors, depth + 1);
  }

  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      // Like JSON.stringify: an undefined array element becomes null, keeping positions.
      return object.map((item, index) =>
        item === undefined ? null : convert(item, keyPath(path, index), ancestors, depth + 1),
      );
    }
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(object)) {
      if (item === undefined) continue;
      out[key] = convert(item, keyPath(path, key), ancestors, depth + 1);
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

function fail(error: ConfigTrackerError): never {
  throw error;
}

/** True for `{...}` values: not null, not an array. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
