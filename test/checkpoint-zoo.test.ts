/**
 * inspectCheckpoint on the models people train, saved the ways people save them: written here by
 * real torch (test/fixtures/zoo/make_zoo.py with Debian's torch 1.13 + torchvision 0.14;
 * make_zoo_torch2.py with torch 2.13 + transformers from .venv-torch2, made by
 * scripts/torch2-venv.sh), random init, each file compared field by field with the truth the
 * generator took from the live model. The files (~1 GB) are too large to commit: they are written
 * once per version of the generators into node_modules/.cache and reused.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { inspectCheckpoint } from "../src/checkpoint.js";
import type { ModelInfo } from "../src/checkpoint.js";
import { repoRoot } from "./support/helpers.js";

const zoo = join(repoRoot, "test", "fixtures", "zoo");
const torch1 = process.env.CONFIG_TRACKER_TORCH_PYTHON ?? "/usr/bin/python3";
const torch2 = process.env.CONFIG_TRACKER_TORCH2_PYTHON ?? join(repoRoot, ".venv-torch2", "bin", "python");

interface Truth extends Record<string, unknown> {
  num_parameters: number;
  num_trainable_parameters: number;
  dtypes: Record<string, number>;
  module_classes?: string[];
  trainable_not_recorded?: boolean;
}
interface TruthFile {
  files: Record<string, Truth>;
  weights_only_unsafe_globals?: Record<string, string[]>;
}

function missing(): string | null {
  if (spawnSync(torch1, ["-c", "import torch, torchvision"]).status !== 0) {
    return `${torch1} with torch and torchvision (apt-get install python3-torch python3-torchvision)`;
  }
  if (!existsSync(torch2)) return `${torch2} (bash scripts/torch2-venv.sh)`;
  return null;
}

function run(python: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${python} ${args.join(" ")}: exit ${code}\n${stderr}`))));
  });
}

/** The generators' output, written once per version of them (and of the truth they share). */
async function generate(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of ["make_zoo.py", "make_zoo_torch2.py", "../torch_truth.py"]) hash.update(readFileSync(join(zoo, file)));
  const cache = join(repoRoot, "node_modules", ".cache", "config-tracker");
  const dir = join(cache, `zoo-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, "zoo-torch2", "truth.json"))) return dir;
  // Another version of the generators wrote the others (~1 GB each).
  for (const old of existsSync(cache) ? readdirSync(cache) : []) {
    if (old.startsWith("zoo-")) rmSync(join(cache, old), { recursive: true, force: true });
  }
  const building = `${dir}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  await run(torch1, [join(zoo, "make_zoo.py"), join(building, "zoo")]);
  await run(torch2, [join(zoo, "make_zoo_torch2.py"), join(building, "zoo-torch2"), join(building, "zoo")]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}

const unavailable = missing();
const root = unavailable === null ? await generate() : "";
const load = (folder: string): TruthFile => JSON.parse(readFileSync(join(root, folder, "truth.json"), "utf8")) as TruthFile;
const truths = unavailable === null ? { zoo: load("zoo"), "zoo-torch2": load("zoo-torch2") } : null;
const cases = truths === null ? [] : Object.entries(truths).flatMap(([folder, t]) => Object.entries(t.files).map(([name, want]) => ({ folder, name, want })));
const unsafeGlobals = truths?.["zoo-torch2"].weights_only_unsafe_globals ?? {};

const compared = [
  "num_parameters", "num_buffer_elements", "num_tensors", "parameter_bytes", "type", "format", "exact", "state_dict_key",
  "d_model", "num_layers", "num_heads", "vocab_size", "max_seq_len", "architecture_source",
] as const;

describe.skipIf(unavailable !== null)(`models written by torch 1.13 and 2.13${unavailable ? ` (skipped: needs ${unavailable})` : ""}`, () => {
  it("were written by the torch versions the generators name", () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    expect(JSON.parse(readFileSync(join(root, "zoo", "truth.json"), "utf8")).torch_version).toMatch(/^1\.13/);
    expect(JSON.parse(readFileSync(join(root, "zoo-torch2", "truth.json"), "utf8")).torch_version).toMatch(/^2\.13/);
  });

  describe.each(cases)("$folder/$name", ({ folder, name, want }) => {
    it("matches the live model, field by field", async () => {
      const info = await inspectCheckpoint(join(root, folder, name));
      const got = Object.fromEntries(compared.map((k) => [k, info[k as keyof ModelInfo] ?? null]));
      expect(got).toEqual(Object.fromEntries(compared.map((k) => [k, want[k]])));
      expect(info.dtypes).toEqual(want.dtypes);
      if (want.trainable_not_recorded) {
        // A state dict of a partly frozen model with no optimizer state: nothing in it says what is
        // frozen, so every parameter is counted as trainable, and the count is not claimed exact.
        expect(info.num_trainable_parameters).toBe(info.num_parameters);
        expect(want.num_trainable_parameters).toBeLessThan(info.num_parameters);
        expect(info.exact).toBe(false);
      } else {
        expect(info.num_trainable_parameters).toBe(want.num_trainable_parameters);
      }
      for (const cls of want.module_classes ?? []) expect(info.classes_needed).toContain(cls);
      const unsafe = unsafeGlobals[`${folder}/${name}`];
      if (unsafe) expect([...info.classes_needed].sort()).toEqual(unsafe);
    });
  });

  it("a whole module in the legacy format reads as in the zip format", async () => {
    const legacy = await inspectCheckpoint(join(root, "zoo", "resnet18_legacy_module.pt"));
    const zip = await inspectCheckpoint(join(root, "zoo", "resnet18_module.pt"));
    expect({ ...legacy, format: "", source: "", files: [] }).toEqual({ ...zip, format: "", source: "", files: [] });
  });
});
