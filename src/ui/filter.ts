/**
 * The runs table's filter, one language for the page and the API (`?filter=`):
 *   lr sweep               plain words: the run's name contains each (any case); -word: does not
 *   "lr 3e-4"              a quoted phrase is one word
 *   val_loss<2             a metric's last value; best.val_loss<2 its best, last.val_loss its last
 *   config.lr>=1e-4        a config value (dotted path inside config.json's `config`)
 *   status=running|lost    = equal (any case), != not equal; a|b: either
 *   gpu~H100  note!~todo   ~ contains (any case), !~ does not
 *   tag=baseline           tags: has that tag
 *   params>1e8 duration>1h start>=2026-11-28
 * Every term must hold. A term whose key names nothing the runs have (`lr=3e-4` where no run has a
 * metric "lr") is a plain word, so folder names with "=" in them can be searched as they are.
 * No DOM and no Node: the page bundles this file as it is.
 */

export type Operator = "<" | "<=" | ">" | ">=" | "=" | "!=" | "~" | "!~";

export type FilterKey =
  | { kind: "fact"; fact: Fact }
  | { kind: "config"; path: string }
  | { kind: "metric"; name: string; which: "last" | "best" };

export const FACTS = ["name", "group", "id", "status", "gpu", "git", "host", "tag", "note", "params", "duration", "start"] as const;
export type Fact = (typeof FACTS)[number];

export type FilterTerm =
  | { kind: "word"; text: string; negate: boolean }
  | { kind: "compare"; key: FilterKey; source: string; op: Operator; operands: string[] };

export interface ParsedFilter {
  terms: FilterTerm[];
  /** Why the text is not a filter (the terms before the mistake are kept), or null. */
  error: string | null;
}

/** A value of a run for a key: numbers, text, a list of tags; null or undefined when it has none. */
export type FilterValue = number | string | boolean | string[] | null | undefined;

export interface FilterSubject {
  name: string;
  value(key: FilterKey): FilterValue;
}

/** A run as the filter reads it: the page and the server each describe their rows so. */
export interface FilterRun {
  name: string;
  group: string;
  id: string;
  status: string;
  /** "H100 80GB HBM3 x8", null without a GPU. */
  gpu: string | null;
  git: string | null;
  host: string | null;
  tags: string[];
  note: string;
  params: number | null;
  /** Seconds. */
  duration: number | null;
  /** ms since 1970. */
  start: number;
  config(path: string): FilterValue;
  metric(name: string, which: "last" | "best"): FilterValue;
}

const FIELD: Record<Fact, keyof FilterRun> = {
  name: "name",
  group: "group",
  id: "id",
  status: "status",
  gpu: "gpu",
  git: "git",
  host: "host",
  tag: "tags",
  note: "note",
  params: "params",
  duration: "duration",
  start: "start",
};

export function subjectOf(run: FilterRun): FilterSubject {
  return {
    name: run.name,
    value(key: FilterKey): FilterValue {
      if (key.kind === "config") return run.config(key.path);
      if (key.kind === "metric") return run.metric(key.name, key.which);
      return run[FIELD[key.fact]] as FilterValue;
    },
  };
}

const FACT_ALIASES: Record<string, Fact> = { tags: "tag", parameters: "params", started: "start", folder: "group", sweep: "group" };

/** What a key means; null when it names nothing (then the term is a plain word). */
export function resolveKey(key: string, isMetric: (name: string) => boolean): FilterKey | null {
  const fact = (FACTS as readonly string[]).includes(key) ? (key as Fact) : FACT_ALIASES[key];
  if (fact !== undefined) return { kind: "fact", fact };
  if (key.startsWith("config.") && key.length > 7) return { kind: "config", path: key.slice(7) };
  for (const which of ["best", "last"] as const) {
    if (key.startsWith(`${which}.`) && key.length > which.length + 1) return { kind: "metric", name: key.slice(which.length + 1), which };
  }
  return isMetric(key) ? { kind: "metric", name: key, which: "last" } : null;
}

const COMPARISON = /^([^<>=!~"]+?)(<=|>=|!=|!~|<|>|=|~)(.*)$/s;

function tokens(text: string): { tokens: string[]; error: string | null } {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let started = false;
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(char)) {
      if (started) out.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) out.push(current);
  return { tokens: out, error: quoted ? "a quote is not closed" : null };
}

export function parseFilter(text: string, isMetric: (name: string) => boolean = () => false): ParsedFilter {
  const { tokens: parts, error } = tokens(text);
  const terms: FilterTerm[] = [];
  for (const part of parts) {
    const match = COMPARISON.exec(part);
    const key = match ? resolveKey((match[1] as string).trim(), isMetric) : null;
    if (match === null || key === null) {
      const negate = part.startsWith("-") && part.length > 1;
      terms.push({ kind: "word", text: (negate ? part.slice(1) : part).toLowerCase(), negate });
      continue;
    }
    const op = match[2] as Operator;
    const operands = (match[3] as string).split("|");
    if (operands.some((operand) => operand === "")) return { terms, error: `${part}: give a value after ${op}` };
    if ((op === "<" || op === "<=" || op === ">" || op === ">=") && operands.length > 1) {
      return { terms, error: `${part}: ${op} takes one value` };
    }
    if ((op === "<" || op === "<=" || op === ">" || op === ">=") && orderedOperand(key, operands[0] as string) === null) {
      return { terms, error: `${part}: ${JSON.stringify(operands[0])} is not a ${describe(key)}` };
    }
    terms.push({ kind: "compare", key, source: (match[1] as string).trim(), op, operands });
  }
  return { terms, error };
}

function describe(key: FilterKey): string {
  if (key.kind === "fact" && key.fact === "duration") return "duration (90, 90s, 15m, 1h30m)";
  if (key.kind === "fact" && key.fact === "start") return "date (2026-11-28, 2026-11-28T10:00)";
  return "number";
}

/** 90, 90s, 15m, 1h30m, 2d -> seconds. */
export function parseDuration(text: string): number | null {
  if (/^[-+]?\d+(\.\d+)?$/.test(text)) return Number(text);
  const match = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (match === null || text === "") return null;
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

/** A number as the filter reads one: 3e-4, -2, inf, -inf, nan (any case). */
export function parseNumber(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "inf" || lower === "+inf" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return null;
  return Number(text);
}

/** The operand as the number the key's values are compared with (dates: ms since 1970). */
function orderedOperand(key: FilterKey, operand: string): number | null {
  if (key.kind === "fact" && key.fact === "duration") return parseDuration(operand);
  if (key.kind === "fact" && key.fact === "start") {
    const time = Date.parse(operand);
    return Number.isNaN(time) ? null : time;
  }
  return parseNumber(operand);
}

function equals(key: FilterKey, value: FilterValue, operand: string): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some((item) => item.toLowerCase() === operand.toLowerCase());
  if (typeof value === "number") {
    const number = orderedOperand(key, operand);
    return number !== null && (number === value || (Number.isNaN(number) && Number.isNaN(value)));
  }
  return String(value).toLowerCase() === operand.toLowerCase();
}

function contains(value: FilterValue, operand: string): boolean {
  if (value === null || value === undefined) return false;
  const wanted = operand.toLowerCase();
  if (Array.isArray(value)) return value.some((item) => item.toLowerCase().includes(wanted));
  return String(value).toLowerCase().includes(wanted);
}

function holds(term: Extract<FilterTerm, { kind: "compare" }>, value: FilterValue): boolean {
  switch (term.op) {
    case "=":
      return term.operands.some((operand) => equals(term.key, value, operand));
    case "!=":
      return !term.operands.some((operand) => equals(term.key, value, operand));
    case "~":
      return term.operands.some((operand) => contains(value, operand));
    case "!~":
      return !term.operands.some((operand) => contains(value, operand));
    default: {
      const number = typeof value === "number" ? value : typeof value === "string" && term.key.kind === "config" ? parseNumber(value) : null;
      const operand = orderedOperand(term.key, term.operands[0] as string);
      if (number === null || operand === null || Number.isNaN(number)) return false;
      if (term.op === "<") return number < operand;
      if (term.op === "<=") return number <= operand;
      if (term.op === ">") return number > operand;
      return number >= operand;
    }
  }
}

export function matches(filter: ParsedFilter, subject: FilterSubject): boolean {
  for (const term of filter.terms) {
    if (term.kind === "word") {
      if (subject.name.toLowerCase().includes(term.text) === term.negate) return false;
    } else if (!holds(term, subject.value(term.key))) return false;
  }
  return true;
}

/** The metric names and config paths a filter reads (the page fetches those columns first). */
export function keysRead(filter: ParsedFilter): FilterKey[] {
  return filter.terms.flatMap((term) => (term.kind === "compare" ? [term.key] : []));
}
