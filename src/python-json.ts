/**
 * JSON as Python's json module reads and writes it: bare `NaN`, `Infinity` and `-Infinity` are
 * numbers (what json.dump writes for a diverged loss), so files cross between the Python
 * ConfigTracker and this one unchanged.
 */
import { createRequire } from "node:module";

// node:crypto loads lazily: only a value with NaN or Infinity needs a marker (the CLI's start-up
// pays for nothing it does not use).
const require = createRequire(import.meta.url);
const randomHex = (): string => (require("node:crypto") as typeof import("node:crypto")).randomBytes(8).toString("hex");

const NON_FINITE_TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

/** JSON.parse that also accepts Python's non-finite tokens. */
export function parsePythonJson(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  // Swap each bare token (never one inside a string) for a marker string no real file contains,
  // then turn the markers back into numbers.
  const marker = `\u0000ct-nonfinite-${randomHex()}:`;
  const marked = text.replace(NON_FINITE_TOKEN, (token) =>
    token.startsWith('"') ? token : JSON.stringify(marker + token),
  );
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(marker) ? Number(value.slice(marker.length)) : value,
  );
}

/**
 * JSON.stringify (indented like json.dump(indent=2); `indent` 0: one line) that writes
 * NaN/Infinity as Python does.
 */
export function stringifyPythonJson(value: unknown, indent = 2): string {
  let marker: string | null = null;
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item === "number" && !Number.isFinite(item)) {
        marker ??= `ct-nonfinite-${randomHex()}:`;
        return marker + String(item);
      }
      return item;
    },
    indent,
  );
  if (marker === null) return text;
  return text.replace(new RegExp(`"${marker}(NaN|Infinity|-Infinity)"`, "g"), "$1");
}
