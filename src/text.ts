/** Text for people: untrusted text made safe for one line and for a terminal, byte sizes. */

// C0 and C1 controls, DEL, line / paragraph separators and the bidirectional marks and overrides:
// what a terminal or an editor would act on rather than show.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `text` made safe for one line of readable output: every character a terminal or an editor would
 * act on is written as an escape (\n, \t, \x1b, \u2028, ...). File names, pickle keys and
 * architecture names come from untrusted files. The addon escapes its messages by the same rule
 * (native/common/one_line.h); test/one-line.test.ts holds the two to it.
 */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * Text for a terminal: each of its lines made safe by the rule above, the newlines between them
 * kept. Everything config-tracker prints goes through this (the tables of ls and compare, show's
 * page, diff, a sweep's summary, warnings and errors): a run folder's names, config keys and
 * values, metric names, messages and paths cannot clear the screen, set the clipboard (OSC 52),
 * ring the bell, reorder text (bidirectional overrides) or hide a line.
 */
export function forTerminal(text: string): string {
  return text.includes("\n") ? text.split("\n").map(oneLine).join("\n") : oneLine(text);
}

/**
 * JSON text for a terminal: JSON.stringify escapes C0 controls in strings but leaves C1
 * controls, bidirectional marks and U+2028 as they are; here they are written as \u escapes too
 * (the same data for any JSON reader). The newlines of the layout stay.
 */
export function jsonForTerminal(json: string): string {
  return json.replace(UNSAFE_CHARACTERS, (c) => (c === "\n" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
