/**
 * Turns what a user hands to saveConfig/saveResults into plain JSON data, or says exactly which
 * key cannot be stored. JSON.stringify would silently drop functions and Symbol keys, turn Maps,
 * Errors and class instances into {} and throw an unhelpful TypeError on BigInt or cycles; here
 * each of those is an INVALID_CONFIG error naming the key path.
 *
 * The walk is iterative (an explicit stack, no recursion limit but MAX_DEPTH) and can pause: the
 * async variants hand the event loop back every few milliseconds, so a 10 MB config does not
 * freeze a training supervisor's timers and sockets while it is converted and written.
 */
import { ConfigTrackerError } from "./errors.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The deepest a value may nest: configs are written within it, and read back only within it. */
export const MAX_DEPTH = 1000;
/** Configs and results larger than this (as JSON) are refused: they are not configs any more. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/**
 * Values one config or results file holds at most (leaves and containers): a file that holds more
 * is not a config any more, and reading it back would take seconds and hundreds of MB.
 */
export const MAX_VALUES = 1_000_000;
/**
 * Keys one such file holds at most, over all its objects: a key costs far more to read back and
 * to show than an array's item (an object of a million keys takes seconds and most of a GB).
 */
export const MAX_KEYS = 200_000;
/** Below this many values, the native JSON.stringify is fastest and blocks for well under 1 ms. */
const SMALL_NODE_COUNT = 20_000;
/** Work done between checks of the clock. */
const NODES_PER_SLICE = 2048;
/** How long one slice of work may hold the event loop. */
const SLICE_MS = 8;

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

/** What a conversion produced, with what the writer needs to know about it. */
export interface Converted {
  value: JsonValue;
  /** Values visited (leaves and containers). */
  nodes: number;
  /** Whether any NaN / Infinity is inside (the native serializer would write null for them). */
  nonFinite: boolean;
}

/** A container being filled: the walk's explicit stack holds these. */
class Frame {
  index = 0;
  readonly length: number;
  constructor(
    readonly source: object,
    readonly out: JsonValue[] | { [key: string]: JsonValue },
    readonly keys: string[] | null, // null: an array
    readonly path: string,
  ) {
    this.length = keys === null ? (source as unknown[]).length : keys.length;
  }
}

/**
 * The conversion as a generator that yields every NODES_PER_SLICE values; driven to the end in
 * one go by toJsonValue, or with pauses by toJsonValueAsync.
 */
function* convertSteps(value: unknown, rootPath: string, maxBytes: number): Generator<void, Converted> {
  const stack: Frame[] = [];
  const open = new Set<object>();
  let nodes = 0;
  let keys = 0;
  let bytes = 0;
  let nonFinite = false;
  const tooLarge = (what: string): never => {
    throw new ConfigTrackerError("LIMIT_EXCEEDED", `${rootPath}: ${what}: store large data in its own file and record its path`, { key: rootPath });
  };

  // Converts one value: a leaf is returned as it is stored; a container comes back as a new,
  // still empty Frame for the loop to fill.
  const visit = (item: unknown, path: () => string): JsonValue | Frame => {
    nodes += 1;
    if (nodes > MAX_VALUES) tooLarge(`more than ${MAX_VALUES.toLocaleString("en-US")} values`);
    switch (typeof item) {
      case "string":
        bytes += item.length + 2;
        return item;
      case "number":
        if (!Number.isFinite(item)) nonFinite = true;
        bytes += 8;
        return item;
      case "boolean":
        bytes += 5;
        return item;
      case "bigint":
        throw invalid(path(), `BigInt ${item}n`, "convert it with Number() or String()");
      case "function":
        throw invalid(path(), "a function", "store its name or result instead");
      case "symbol":
        throw invalid(path(), String(item), "use a string");
      case "undefined":
        throw invalid(path(), "undefined", "use null");
    }
    if (item === null) {
      bytes += 4;
      return null;
    }
    let object = item as object;
    for (let hops = 0; ; hops++) {
      if (open.has(object)) throw invalid(path(), "a circular reference", "");
      if (object instanceof Date) {
        if (Number.isNaN(object.getTime())) throw invalid(path(), "an invalid Date", "");
        bytes += 26;
        return object.toISOString();
      }
      if (object instanceof Number || object instanceof String || object instanceof Boolean) {
        return visit(object.valueOf(), path); // boxed primitives, as JSON.stringify unboxes them
      }
      if (object instanceof Error) {
        throw invalid(path(), `an Error (${JSON.stringify(object.message)})`, "store error.message or String(error)");
      }
      if (object instanceof Map) throw invalid(path(), "a Map", "convert it with Object.fromEntries(map)");
      if (object instanceof Set) throw invalid(path(), "a Set", "convert it with Array.from(set)");
      if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
        throw invalid(path(), `a ${object.constructor.name}`, "convert it with Array.from()");
      }
      if (object instanceof RegExp) throw invalid(path(), "a RegExp", "store its .source");
      if (object instanceof Promise) throw invalid(path(), "a Promise", "await it first");
      const toJSON = (object as { toJSON?: unknown }).toJSON;
      if (typeof toJSON !== "function") break;
      if (hops > 8) throw invalid(path(), "a value whose toJSON() keeps returning objects with toJSON()", "");
      const p = path();
      const converted = (toJSON as (key: string) => unknown).call(object, p.slice(p.lastIndexOf(".") + 1));
      if (typeof converted !== "object" || converted === null) return visit(converted, () => p);
      object = converted;
    }
    const isArray = Array.isArray(object);
    if (!isArray) {
      const prototype = Object.getPrototypeOf(object) as object | null;
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (object as { constructor?: { name?: string } }).constructor?.name || "class";
        // Getters on a class's prototype would be lost without a word: make the user choose.
        throw invalid(path(), `a ${name} instance`, "convert it to a plain object (e.g. { ...value } or value.toJSON())");
      }
      const symbols = Object.getOwnPropertySymbols(object).filter((symbol) =>
        Object.prototype.propertyIsEnumerable.call(object, symbol),
      );
      if (symbols.length > 0) {
        throw invalid(`${path()}[${String(symbols[0])}]`, "a Symbol key", "use a string key");
      }
    }
    if (stack.length >= MAX_DEPTH) throw invalid(path(), `a value nested deeper than ${MAX_DEPTH} levels`, "");
    bytes += 2;
    const names = isArray ? null : Object.keys(object);
    keys += names?.length ?? 0;
    if (keys > MAX_KEYS) tooLarge(`more than ${MAX_KEYS.toLocaleString("en-US")} keys`);
    return new Frame(object, isArray ? [] : {}, names, path());
  };

  const push = (frame: Frame) => {
    stack.push(frame);
    open.add(frame.source);
  };

  const root = visit(value, () => rootPath);
  if (!(root instanceof Frame)) return { value: root, nodes, nonFinite };
  push(root);

  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.index >= frame.length) {
      stack.pop();
      open.delete(frame.source);
      continue;
    }
    const position = frame.index++;
    const key = frame.keys === null ? position : (frame.keys[position] as string);
    const item = (frame.source as Record<string | number, unknown>)[key];
    if (item === undefined) {
      // Like JSON.stringify: undefined properties are left out, undefined array slots are null.
      if (frame.keys === null) (frame.out as JsonValue[]).push(null);
      continue;
    }
    if (frame.keys !== null) bytes += key.toString().length + 4;
    const result = visit(item, () => keyPath(frame.path, key));
    const converted = result instanceof Frame ? result.out : result;
    if (frame.keys === null) (frame.out as JsonValue[]).push(converted);
    else setKey(frame.out as { [key: string]: JsonValue }, key as string, converted);
    if (result instanceof Frame) push(result);
    if (bytes > maxBytes) {
      throw new ConfigTrackerError(
        "LIMIT_EXCEEDED",
        `${rootPath}: larger than ${Math.round(maxBytes / 1024 / 1024)} MiB as JSON: store large data in its own file and record its path`,
        { key: rootPath },
      );
    }
    if (nodes % NODES_PER_SLICE === 0) yield;
  }
  return { value: root.out, nodes, nonFinite };
}

function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runInSlices<T>(steps: Generator<void, T>): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/**
 * Converts `value` (found at key path `path`) to JSON data. Dates become ISO strings; objects
 * with toJSON (other than Date) are converted the way JSON.stringify converts them; undefined
 * properties are left out, as JSON.stringify leaves them out. Non-finite numbers stay numbers:
 * they are written as Python writes them.
 */
export function toJsonValue(value: unknown, path: string, maxBytes = MAX_JSON_BYTES): JsonValue {
  return runToEnd(convertSteps(value, path, maxBytes)).value;
}

/** toJsonValue that pauses every few milliseconds, with what the writer needs to know. */
export function convertJsonAsync(value: unknown, path: string, maxBytes = MAX_JSON_BYTES): Promise<Converted> {
  return runInSlices(convertSteps(value, path, maxBytes));
}

const NON_FINITE_TEXT = (value: number) => (Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");

/**
 * The same text as stringifyPythonJson(value) (json.dump(indent=2) layout, NaN/Infinity as Python
 * writes them), produced as a generator that yields every NODES_PER_SLICE values.
 */
function* serializeSteps(value: JsonValue): Generator<void, string[]> {
  const chunks: string[] = []; // ~64 KiB pieces: no one giant string for a large config
  let parts: string[] = [];
  let nodes = 0;
  interface SerialFrame {
    value: JsonValue[] | { [key: string]: JsonValue };
    keys: string[] | null;
    index: number;
    indent: string;
  }
  const stack: SerialFrame[] = [];
  const write = (item: JsonValue, indent: string): void => {
    nodes += 1;
    if (item === null) parts.push("null");
    else if (typeof item === "number") parts.push(Number.isFinite(item) ? String(item) : NON_FINITE_TEXT(item));
    else if (typeof item === "string") parts.push(JSON.stringify(item));
    else if (typeof item === "boolean") parts.push(item ? "true" : "false");
    else if (Array.isArray(item)) {
      if (item.length === 0) parts.push("[]");
      else {
        parts.push("[");
        stack.push({ value: item, keys: null, index: 0, indent });
      }
    } else {
      const keys = Object.keys(item);
      if (keys.length === 0) parts.push("{}");
      else {
        parts.push("{");
        stack.push({ value: item, keys, index: 0, indent });
      }
    }
  };
  write(value, "");
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as SerialFrame;
    const length = frame.keys === null ? (frame.value as JsonValue[]).length : frame.keys.length;
    if (frame.index >= length) {
      stack.pop();
      parts.push(`\n${frame.indent}${frame.keys === null ? "]" : "}"}`);
      continue;
    }
    const inner = `${frame.indent}  `;
    parts.push(frame.index === 0 ? `\n${inner}` : `,\n${inner}`);
    if (frame.keys === null) {
      write((frame.value as JsonValue[])[frame.index] as JsonValue, inner);
    } else {
      const key = frame.keys[frame.index] as string;
      parts.push(`${JSON.stringify(key)}: `);
      write((frame.value as { [key: string]: JsonValue })[key] as JsonValue, inner);
    }
    frame.index += 1;
    if (parts.length >= 8192) {
      chunks.push(parts.join(""));
      parts = [];
    }
    if (nodes % NODES_PER_SLICE === 0) yield;
  }
  chunks.push(parts.join(""));
  return chunks;
}

/**
 * Python-style JSON text for converted data, in pieces, without holding the event loop for
 * long: a large value comes out as ~64 KiB strings that are written one after the other.
 */
export async function serializeJsonAsync(value: JsonValue, nodes: number, nonFinite: boolean): Promise<string[]> {
  if (nodes < SMALL_NODE_COUNT) {
    const { stringifyPythonJson } = await import("./python-json.js");
    return [nonFinite ? stringifyPythonJson(value) : JSON.stringify(value, null, 2)];
  }
  return runInSlices(serializeSteps(value));
}

/** The generator's output in one go (tests compare it with stringifyPythonJson). */
export function serializeJson(value: JsonValue): string {
  return runToEnd(serializeSteps(value)).join("");
}

/** Whether parsed JSON nests deeper than `limit` (walked without recursion: a hostile file may nest 100,000 deep). */
/**
 * What of a file's limits JSON text passes, counted before it is parsed: values (commas and
 * opening brackets outside strings) and keys (colons outside strings), never more than a writer
 * counted; null when it passes neither.
 */
export function jsonTextExceeds(text: string): string | null {
  let values = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x2c || c === 0x5b || c === 0x7b) {
      if (++values > MAX_VALUES) return `more than ${MAX_VALUES.toLocaleString("en-US")} values`;
    } else if (c === 0x3a && ++keys > MAX_KEYS) return `more than ${MAX_KEYS.toLocaleString("en-US")} keys`;
  }
  return null;
}

export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof item !== "object" || item === null) continue;
    if (depth >= limit) return true;
    if (Array.isArray(item)) {
      for (const child of item) if (typeof child === "object" && child !== null) stack.push({ value: child, depth: depth + 1 });
      continue;
    }
    // for...in, not Object.values: a config of a million keys is not copied into an array first.
    for (const key in item) {
      const child = (item as Record<string, unknown>)[key];
      if (typeof child === "object" && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * Sets `object[key] = value` as an own property whatever the key: `__proto__` too, which plain
 * assignment would take as the object's prototype (and lose). Data keyed by names from a file or
 * a user (config keys, metric names, grid keys) is written through this, or kept in a Map.
 */
export function setKey<T>(object: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

/** An empty object without a prototype: `constructor`, `toString`, ... are not in it until set. */
export const emptyRecord = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** True for `{...}` values: not null, not an array. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
