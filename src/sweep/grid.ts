/**
 * A sweep's grid: a JSON object of arrays ({"lr": [1e-3, 3e-4], "batch_size": [32, 64]}) whose
 * cartesian product gives the combinations, each with a stable readable name, and the command
 * template whose {placeholders} each combination fills.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";

import { ConfigTrackerError } from "../errors.js";
import { readRegularFile } from "../io/read-file.js";
import { emptyRecord, isPlainRecord, MAX_JSON_BYTES, setKey } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";

export type Grid = Record<string, unknown[]>;

export interface Combination {
  /** Position in the cartesian product (the first key varies slowest); SLURM's array task id. */
  index: number;
  /** Stable folder name from the values, e.g. `lr=0.001,batch_size=32`. */
  name: string;
  values: Record<string, unknown>;
}

/** Placeholders the sweep fills besides the grid's keys. */
export const BUILTIN_PLACEHOLDERS = ["run_name", "run_dir"] as const;

/** More combinations than this is a mistake in the grid, not a sweep. */
export const MAX_COMBINATIONS = 100_000;

const KEY = /^[A-Za-z_][\w.-]*$/;

/** Checks a parsed grid; `source` (the file, or "grid") names it in errors. */
export function checkGrid(value: unknown, source: string): Grid {
  const fail = (message: string, key?: string): never => {
    throw new ConfigTrackerError("INVALID_FILE", `${source}: ${message}`, { path: source, ...(key === undefined ? {} : { key }) });
  };
  if (!isPlainRecord(value)) return fail('not a JSON object of arrays (e.g. {"lr": [0.001, 0.0003]})');
  const keys = Object.keys(value);
  if (keys.length === 0) return fail("the grid is empty: give at least one key with a list of values");
  let count = 1;
  for (const key of keys) {
    if (!KEY.test(key)) return fail(`key "${key}" is not a name (letters, digits, _ . -; not starting with a digit)`, key);
    if ((BUILTIN_PLACEHOLDERS as readonly string[]).includes(key)) return fail(`key "${key}" is reserved (it is filled by the sweep)`, key);
    const values = value[key];
    if (!Array.isArray(values)) return fail(`"${key}" is not a list of values`, key);
    if (values.length === 0) return fail(`"${key}" has no values`, key);
    const seen = new Set<string>();
    for (const item of values) {
      const text = JSON.stringify(item);
      if (seen.has(text)) return fail(`"${key}" lists ${text} twice`, key);
      seen.add(text);
    }
    const nested = keys.find((other) => other.startsWith(`${key}.`));
    if (nested !== undefined) return fail(`"${key}" and "${nested}" cannot both be set (the run's config nests dotted keys)`, nested);
    count *= values.length;
    if (count > MAX_COMBINATIONS) return fail(`more than ${MAX_COMBINATIONS} combinations`);
  }
  return value as Grid;
}

/** Reads and checks a grid file (JSON; Python's NaN / Infinity accepted). */
export async function readGridFile(path: string): Promise<Grid> {
  const { text } = readRegularFile(path, MAX_JSON_BYTES);
  let parsed: unknown;
  try {
    parsed = parsePythonJson(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ConfigTrackerError("INVALID_FILE", `${path}: not JSON (${(error as Error).message})`, { path });
  }
  return checkGrid(parsed, path);
}

/** A value as it is filled into a command: strings as they are, anything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function shortHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 8);
}

/** `key=value` pairs joined by commas (as Hydra names multirun folders), safe as a folder name. */
function readableName(keys: string[], values: Record<string, unknown>): { name: string; exact: boolean } {
  let exact = true;
  const parts = keys.map((key) => {
    const raw = valueText(values[key]);
    let text = raw.replace(/[^\w.+-]/g, "_").slice(0, 48);
    if (text !== raw) exact = false;
    if (text === "") text = "_";
    return `${key}=${text}`;
  });
  let name = parts.join(",");
  if (name.length > 160) {
    name = name.slice(0, 160);
    exact = false;
  }
  return { name, exact };
}

/** The cartesian product, in a stable order: the grid's first key varies slowest. */
export function expandGrid(grid: Grid): Combination[] {
  const keys = Object.keys(grid);
  const combinations: Combination[] = [];
  const total = keys.reduce((product, key) => product * (grid[key] as unknown[]).length, 1);
  for (let index = 0; index < total; index++) {
    // Keyed by the grid's names: no prototype, so `__proto__` or `constructor` is a key like any other.
    const values: Record<string, unknown> = emptyRecord();
    let rest = index;
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k] as string;
      const list = grid[key] as unknown[];
      setKey(values, key, list[rest % list.length]);
      rest = Math.floor(rest / list.length);
    }
    const ordered = Object.fromEntries(keys.map((key) => [key, values[key]]));
    combinations.push({ index, name: "", values: ordered });
  }
  // Names: readable; a name that lost characters, or that two combinations share, gets a hash of
  // the values so that it stays unique and the same on every re-run.
  const named = combinations.map((combination) => readableName(keys, combination.values));
  const counts = new Map<string, number>();
  for (const { name } of named) counts.set(name, (counts.get(name) ?? 0) + 1);
  combinations.forEach((combination, i) => {
    const { name, exact } = named[i] as { name: string; exact: boolean };
    combination.name = exact && counts.get(name) === 1 ? name : `${name}~${shortHash(combination.values)}`;
  });
  return combinations;
}

const PLACEHOLDER = /\{\{([A-Za-z_][\w.-]*)\}\}|\{([A-Za-z_][\w.-]*)\}/g;

/** Names of the {placeholders} in the arguments (`{{name}}` is a literal `{name}`). */
export function placeholdersIn(args: string[]): string[] {
  const names = new Set<string>();
  for (const arg of args) for (const match of arg.matchAll(PLACEHOLDER)) if (match[2] !== undefined) names.add(match[2]);
  return [...names];
}

/**
 * Throws INVALID_ARGUMENT naming the first placeholder that is neither a grid key nor a builtin,
 * or that stands where the sweep cannot quote it for sh (inside quotes, a comment, `...`, ${...}
 * or a here-document of a `sh -c` script).
 */
export function checkPlaceholders(args: string[], grid: Grid, what: string): void {
  const script = shellScriptIndex(args);
  if (script !== -1) {
    const misplaced = misplacedPlaceholder(args[script] as string);
    if (misplaced !== null) {
      throw new ConfigTrackerError(
        "INVALID_ARGUMENT",
        `${what}: {${misplaced.name}} stands ${misplaced.where} in the sh -c script; write it outside quotes, as a word of its own ` +
          `(sh -c 'echo {${misplaced.name}}'): each value is quoted for sh by the sweep itself`,
        { key: misplaced.name },
      );
    }
  }
  const known = new Set([...Object.keys(grid), ...BUILTIN_PLACEHOLDERS]);
  for (const name of placeholdersIn(args)) {
    if (!known.has(name)) {
      throw new ConfigTrackerError(
        "INVALID_ARGUMENT",
        `${what}: unknown placeholder {${name}} (the grid has ${Object.keys(grid).map((key) => `{${key}}`).join(", ")}; also {run_name}, {run_dir})`,
        { key: name },
      );
    }
  }
}

type ShellState = "plain" | "single" | "double" | "backquote" | "comment" | "substitution" | "braces" | "here-document";

const WHERE: Record<Exclude<ShellState, "plain">, string> = {
  single: "inside single quotes",
  double: "inside double quotes",
  backquote: "inside `...`",
  comment: "in a comment",
  substitution: "inside $(...)", // not refused: see below
  braces: "inside ${...}",
  "here-document": "in a here-document",
};

/**
 * The first placeholder of a sh script that is not in plain words (where a single-quoted value is
 * one literal word: the script's own, or those of a $(...) in it), and where it stands; null when
 * every one is. The scan follows sh's quoting:
 * '...', "..." (with \ escapes), `...`, $(...), ${...}, # comments and << here-documents (after
 * which every placeholder is refused: their bodies expand $(...) whatever the quoting).
 */
export function misplacedPlaceholder(script: string): { name: string; where: string } | null {
  const frames: ShellState[] = []; // enclosing $( ... ) / ${ ... }, with the state to go back to
  let state: ShellState = "plain";
  let parens = 0; // ( ... ) open inside the innermost $(
  for (let i = 0; i < script.length; i++) {
    const rest = script.slice(i, i + 2);
    const placeholder = /^\{\{[A-Za-z_][\w.-]*\}\}|^\{([A-Za-z_][\w.-]*)\}/.exec(script.slice(i, i + 200));
    if (placeholder !== null) {
      const name = placeholder[1];
      if (name !== undefined) {
        // A $(...) is a script of its own: plain words there take a quoted value as well.
        if (state !== "plain" && state !== "substitution") return { name, where: WHERE[state] };
      }
      i += placeholder[0].length - 1;
      continue;
    }
    const c = script[i] as string;
    switch (state) {
      case "plain":
      case "substitution":
      case "braces":
        if (c === "\\") i += 1;
        else if (c === "'") frames.push(state), (state = "single");
        else if (c === '"') frames.push(state), (state = "double");
        else if (c === "`") frames.push(state), (state = "backquote");
        else if (c === "#" && (i === 0 || /[\s;&|()<>]/.test(script[i - 1] as string))) frames.push(state), (state = "comment");
        else if (rest === "<<") state = "here-document";
        else if (rest === "$(") frames.push(state), (state = "substitution"), (parens = 0), (i += 1);
        else if (rest === "${") frames.push(state), (state = "braces"), (i += 1);
        else if (state === "substitution" && c === "(") parens += 1;
        else if (state === "substitution" && c === ")") {
          if (parens > 0) parens -= 1;
          else state = frames.pop() ?? "plain";
        } else if (state === "braces" && c === "}") state = frames.pop() ?? "plain";
        break;
      case "single":
        if (c === "'") state = frames.pop() ?? "plain";
        break;
      case "double":
        if (c === "\\") i += 1;
        else if (c === '"') state = frames.pop() ?? "plain";
        else if (rest === "$(") frames.push(state), (state = "substitution"), (parens = 0), (i += 1);
        else if (rest === "${") frames.push(state), (state = "braces"), (i += 1);
        else if (c === "`") frames.push(state), (state = "backquote");
        break;
      case "backquote":
        if (c === "\\") i += 1;
        else if (c === "`") state = frames.pop() ?? "plain";
        break;
      case "comment":
        if (c === "\n") state = frames.pop() ?? "plain";
        break;
      case "here-document":
        break;
    }
  }
  return null;
}

/** Control characters (C0 but tab, DEL, C1): refused in a value filled into a sh script. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** A word for sh: left alone when it needs no quoting, else single-quoted. */
export function shellQuote(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh"]);

/** Index of the script of `sh -c SCRIPT ...` (or `bash -lc`, ...), or -1 for a plain argv. */
export function shellScriptIndex(command: string[]): number {
  if (!SHELLS.has(basename(command[0] ?? ""))) return -1;
  for (let i = 1; i < command.length; i++) {
    const arg = command[i] as string;
    if (arg === "--" || !arg.startsWith("-")) return -1;
    if (/^-[A-Za-z]*c[A-Za-z]*$/.test(arg)) return i + 1 < command.length ? i + 1 : -1;
  }
  return -1;
}

/**
 * The command with the placeholders filled. The command is argv (no shell): a value becomes part
 * of one argument whatever characters it has. Only the script of `sh -c SCRIPT` is shell code,
 * and there each value is quoted for sh.
 */
export function fillCommand(command: string[], values: Record<string, string>): string[] {
  const script = shellScriptIndex(command);
  return command.map((arg, i) =>
    arg.replace(PLACEHOLDER, (_, literal: string | undefined, name: string | undefined) => {
      if (literal !== undefined) return `{${literal}}`;
      const value = Object.hasOwn(values, name as string) ? values[name as string] : undefined;
      if (value === undefined) throw new ConfigTrackerError("INVALID_ARGUMENT", `unknown placeholder {${name}}`, { key: name as string });
      // A NUL cannot be in an argument; a newline or another control character in shell code is
      // refused too (the value of a word should not be able to end a line of a script).
      if (value.includes("\u0000") || (i === script && CONTROL.test(value))) {
        throw new ConfigTrackerError(
          "INVALID_ARGUMENT",
          `{${name}} = ${JSON.stringify(value)}: a control character cannot be filled into ${i === script ? "a sh script" : "a command's argument"}`,
          { key: name as string },
        );
      }
      return i === script ? shellQuote(value) : value;
    }),
  );
}

/** What a combination fills in: its values as text, its run's name and folder. */
export function placeholderValues(combination: Combination, runDir: string): Record<string, string> {
  const values: Record<string, string> = emptyRecord();
  setKey(values, "run_name", combination.name);
  setKey(values, "run_dir", runDir);
  for (const [key, value] of Object.entries(combination.values)) setKey(values, key, valueText(value));
  return values;
}
