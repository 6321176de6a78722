import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { parsePythonJson, stringifyPythonJson } from "../src/python-json.js";
import { tempDir } from "./support/helpers.js";

const pythonResults = join(import.meta.dirname, "fixtures", "python", "run_python", "results.json");

describe("parsePythonJson", () => {
  it("reads the NaN/Infinity tokens Python's json.dump wrote", () => {
    const data = parsePythonJson(readFileSync(pythonResults, "utf8")) as {
      final_metrics: Record<string, number>;
      generation_samples: Array<{ output: string }>;
    };
    expect(data.final_metrics.val_loss).toBeNaN();
    expect(data.final_metrics.train_loss).toBe(Infinity);
    expect(data.final_metrics.grad_norm_min).toBe(-Infinity);
    expect(data.final_metrics.tokens_per_second).toBe(152340.5);
    // The same words inside strings stay strings.
    expect(data.generation_samples[0]?.output).toBe('NaN Infinity "quoted"');
  });

  it("is plain JSON.parse for plain JSON", () => {
    expect(parsePythonJson('{"a": [1, 2.5, "x", null, true]}')).toEqual({ a: [1, 2.5, "x", null, true] });
  });

  it("still rejects what Python rejects", () => {
    expect(() => parsePythonJson("{\"a\": nan}")).toThrow(SyntaxError);
    expect(() => parsePythonJson("{\"a\": NaNx}")).toThrow(SyntaxError);
    expect(() => parsePythonJson("{\"a\": 1,}")).toThrow(SyntaxError);
  });

  it("keeps strings that contain escaped quotes next to tokens", () => {
    expect(parsePythonJson('["a\\"NaN", NaN, "Infinity\\\\", -Infinity]')).toEqual(['a"NaN', NaN, "Infinity\\", -Infinity]);
  });
});

describe("stringifyPythonJson", () => {
  it("writes non-finite numbers as Python's bare tokens", () => {
    const text = stringifyPythonJson({ loss: NaN, up: Infinity, down: -Infinity, note: "NaN" });
    expect(text).toContain('"loss": NaN');
    expect(text).toContain('"up": Infinity');
    expect(text).toContain('"down": -Infinity');
    expect(text).toContain('"note": "NaN"');
    expect(parsePythonJson(text)).toEqual({ loss: NaN, up: Infinity, down: -Infinity, note: "NaN" });
  });

  it.skipIf(!existsSync("/usr/bin/python3"))("what it writes, Python's json.load reads back", () => {
    const file = join(tempDir(), "metrics.json");
    writeFileSync(file, stringifyPythonJson({ loss: NaN, ppl: Infinity, floor: -Infinity, steps: 10, name: "ünï" }));
    const check = spawnSync(
      "/usr/bin/python3",
      ["-c", "import json,sys; d=json.load(open(sys.argv[1])); print(repr(d['loss']), d['ppl'], d['floor'], d['steps'], d['name'])", file],
      { encoding: "utf8" },
    );
    expect(check.stderr).toBe("");
    expect(check.stdout.trim()).toBe("nan inf -inf 10 ünï");
  });
});
