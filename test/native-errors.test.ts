/**
 * The native boundary: one table of error codes (native/common/checkpoint_error.h) that the
 * library knows (src/errors.ts) and documents (docs/api.md); the addon itself rejects with the
 * library's ConfigTrackerError (handed to it once at load); its messages are made one line by the
 * same rule as src/text.ts's oneLine, once.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { ConfigTrackerError, ERROR_CODES } from "../src/errors.js";
import { loadAddon } from "../src/native.js";
import { inspectCheckpoint } from "../src/checkpoint.js";
import { oneLine } from "../src/text.js";
import { rejection, repoRoot, tempDir } from "./support/helpers.js";

describe("the error table", () => {
  it("every code the addon's errors carry is one of the library's, and docs/api.md lists every code", () => {
    const native = loadAddon().errorCodes;
    expect(native.length).toBeGreaterThanOrEqual(9);
    for (const code of native) expect(ERROR_CODES as readonly string[], code).toContain(code);
    const api = readFileSync(join(repoRoot, "docs", "api.md"), "utf8");
    const table = api.slice(api.indexOf("## Errors"), api.indexOf("## Environment variables"));
    for (const code of ERROR_CODES) expect(table, code).toContain(`\`${code}\``);
  });
});

describe("the addon rejects with the library's error", () => {
  it("the raw binding's rejection is a ConfigTrackerError with the table's code and the path", async () => {
    const path = join(tempDir(), "not-a-checkpoint.bin");
    writeFileSync(path, "this is no checkpoint format at all");
    const error = await loadAddon()
      .inspectCheckpoint(path)
      .then(
        () => null,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(ConfigTrackerError);
    expect(error).toMatchObject({ name: "ConfigTrackerError", code: "UNSUPPORTED_FORMAT", path });
    expect((error as Error).message.startsWith(`${path}: `)).toBe(true);
    expect(loadAddon().errorCodes).toContain((error as ConfigTrackerError).code);
  });
});

describe("one line, one rule, applied once", () => {
  // Each kind of character either side acts on, and text that must stay as it is.
  const names = [
    "tab\there",
    "newline\nand\rreturn",
    "escape\u001b[31mred",
    "del\u007f",
    "c1\u0085\u009b",
    "arabic mark\u061c",
    "lrm\u200e rlm\u200f",
    "separators\u2028\u2029",
    "overrides\u202a\u202b\u202c\u202d\u202e",
    "isolates\u2066\u2067\u2068\u2069",
    "plain é ü 日本 😀 \\x41 \\n",
  ];

  it.each(names)("%j: the addon's message names the file exactly as oneLine writes it", async (name) => {
    const path = join(tempDir(), name);
    writeFileSync(path, "this is no checkpoint format at all");
    const error = await rejection(inspectCheckpoint(path));
    expect(error.path).toBe(path); // the path itself stays as it is, for programs
    expect(error.message.startsWith(`${oneLine(path)}: `), error.message).toBe(true);
    expect(oneLine(error.message)).toBe(error.message); // escaped once: nothing left to escape
  });
});
