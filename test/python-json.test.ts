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

describe("every file of an experiment folder", () => {
  it.skipIf(!existsSync("/usr/bin/python3"))("loads with Python's standard json module", async () => {
    const { ConfigTracker } = await import("../src/tracker.js");
    const dir = tempDir();
    const fixture = join(import.meta.dirname, "fixtures", "checkpoints", "nanogpt_ckpt.pt");
    const env = { ...process.env, CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent" };
    const worker = new ConfigTracker(dir, { env: { ...env, RANK: "1", WORLD_SIZE: "2" }, allRanks: true });
    const main = new ConfigTracker(dir, { env: { ...env, RANK: "0", WORLD_SIZE: "2" } });
    await main.saveConfig({ lr: 6e-4, note: "ünï", schedule: [1, 0.5] }, { dataset: { name: "owt" } });
    await worker.saveConfig({ lr: 6e-4 });
    main.logMetrics(1, { train_loss: NaN, grad_norm: Infinity, lr: 6e-4 });
    main.logMetrics(2, { val_loss: 1.5, lr: -Infinity });
    worker.logMetrics(1, { train_loss: 2 });
    await main.recordCheckpoint(fixture, { step: 2, metrics: { val_loss: NaN } });
    await worker.saveResults();
    await main.saveResults({ generationSamples: ["NaN Infinity"] });

    const script = `
import json, os, sys
root = sys.argv[1]
seen = []
for dirpath, _, files in os.walk(root):
    for name in sorted(files):
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, root)
        with open(path) as f:
            if name.endswith(".jsonl"):
                lines = [json.loads(line) for line in f if line.strip()]
                seen.append((rel, len(lines)))
            else:
                json.load(f)
                seen.append((rel, 1))
data = json.load(open(os.path.join(root, "results.json")))
print(json.dumps({"files": sorted(seen), "loss": repr(data["final_metrics"]["train_loss"]), "lr": repr(data["summary"]["lr"]["last"])}))
`;
    const check = spawnSync("/usr/bin/python3", ["-c", script, dir], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    const report = JSON.parse(check.stdout) as { files: Array<[string, number]>; loss: string; lr: string };
    expect(report.files).toEqual([
      ["checkpoints.jsonl", 1],
      ["config.json", 1],
      ["metrics.jsonl", 2],
      ["metrics.rank-1.jsonl", 1],
      ["ranks/rank-0.json", 1],
      ["ranks/rank-1.json", 1],
      ["results.json", 1],
      ["status.json", 1],
    ]);
    expect(report.loss).toBe("nan");
    expect(report.lr).toBe("-inf");
  });
});
