/**
 * inspectCheckpoint against files real PyTorch wrote (test/fixtures/checkpoints/make_fixtures.py,
 * torch 1.13; make_fixtures_torch2.py, torch 2.13); every expected number is in expected.json and
 * expected_torch2.json, computed there by torch itself.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { inspectCheckpoint, inspectCheckpointRaw } from "../src/checkpoint.js";
import { ConfigTracker } from "../src/tracker.js";
import { parsePythonJson } from "../src/python-json.js";
import { rejection, runCli, tempDir } from "./support/helpers.js";

const fixtures = join(import.meta.dirname, "fixtures", "checkpoints");
const { fixtures: expected, torch_version: torchVersion } = JSON.parse(
  readFileSync(join(fixtures, "expected.json"), "utf8"),
) as { torch_version: string; fixtures: Record<string, Record<string, unknown>> };

const torch2 = JSON.parse(readFileSync(join(fixtures, "expected_torch2.json"), "utf8")) as {
  torch_version: string;
  fixtures: Record<string, Record<string, unknown>>;
  weights_only_unsafe_globals: Record<string, string[]>;
};

const good = [...Object.entries(expected), ...Object.entries(torch2.fixtures)].filter(([, e]) => !("error" in e));
const bad = Object.entries(expected).filter(([, e]) => "error" in e);


it("fixtures were written by real torch", () => {
  expect(torchVersion).toMatch(/^1\.13/);
  expect(torch2.torch_version).toMatch(/^2\.13/);
  expect(good.length).toBeGreaterThanOrEqual(30);
});

describe.each(good)("%s", (name, want) => {
  it("matches what torch computed", async () => {
    const info = await inspectCheckpoint(join(fixtures, name));
    const { dtypes, ...scalars } = want as Record<string, unknown> & { dtypes?: Record<string, number> };
    expect(info).toMatchObject(scalars);
    if (dtypes) expect(info.dtypes).toEqual(dtypes);
    expect(info.source).toBe(resolve(fixtures, name));
    for (const file of info.files) expect(existsSync(file)).toBe(true);
  });
});

describe.each(bad)("%s", (name, want) => {
  it(`is refused with ${String(want.error)}, naming the file`, async () => {
    const path = join(fixtures, name);
    const error = await rejection(inspectCheckpoint(path));
    expect(error.code).toBe(want.error);
    expect(error.path).toBe(path);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
  });
});

// What torch.load(weights_only=True) refuses in each archive, as torch 2.13's
// get_unsafe_globals_in_checkpoint lists it (make_fixtures_torch2.py), is what classes_needed says.
describe.each(Object.entries(torch2.weights_only_unsafe_globals).filter(([name]) => !(expected[name] ?? {}).error))(
  "%s",
  (name, unsafe) => {
    it("lists the globals torch.load(weights_only=True) refuses", async () => {
      const info = await inspectCheckpoint(join(fixtures, name));
      expect([...info.classes_needed].sort()).toEqual(unsafe);
    });
  },
);

describe("reading metadata only", () => {
  it("reads a small fraction of a checkpoint's bytes", async () => {
    const path = join(fixtures, "nanogpt_ckpt.pt");
    const info = await inspectCheckpointRaw(path);
    const size = readFileSync(path).length;
    expect(info.bytes_read).toBeLessThan(size / 5);
  });

  it("a safetensors file costs its header (and a few bytes of format sniffing)", async () => {
    const path = join(fixtures, "nanogpt.safetensors");
    const header = Number(readFileSync(path).readBigUInt64LE(0));
    const { bytes_read: read } = await inspectCheckpointRaw(path);
    expect(read).toBeGreaterThanOrEqual(8 + header);
    expect(read).toBeLessThanOrEqual(8 + header + 64);
  });

  it("never runs pickle code", async () => {
    // The fixture's payload is os.system("echo pwned > /tmp/config-tracker-pwned").
    const marker = "/tmp/config-tracker-pwned";
    rmSync(marker, { force: true });
    const error = await rejection(inspectCheckpoint(join(fixtures, "hostile_os_system.pt")));
    expect(error.message).toContain("posix.system");
    expect(existsSync(marker)).toBe(false);
  });
});

describe("what the readers tell apart", () => {
  it("tied weights count once; buffers apart", async () => {
    const info = await inspectCheckpoint(join(fixtures, "nanogpt_ckpt.pt"));
    const safetensors = await inspectCheckpoint(join(fixtures, "nanogpt.safetensors"));
    // The zip file stores lm_head.weight and transformer.wte.weight (one storage); safetensors one of them.
    expect(info.num_parameters).toBe(safetensors.num_parameters);
    expect(info.num_tensors).toBe(safetensors.num_tensors);
  });

  it("frozen parameters of a whole pickled module are not trainable", async () => {
    const info = await inspectCheckpoint(join(fixtures, "cnn_whole_module_frozen.pt"));
    expect(info.num_trainable_parameters).toBeLessThan(info.num_parameters);
    expect(info.exact).toBe(true);
  });

  it("the legacy format and the zip format agree", async () => {
    const legacy = await inspectCheckpoint(join(fixtures, "cnn_legacy.pt"));
    const zip = await inspectCheckpoint(join(fixtures, "cnn_state_dict.pt"));
    expect({ ...legacy, format: "", source: "", files: [] }).toEqual({ ...zip, format: "", source: "", files: [] });
  });

  it("many inspections at once", async () => {
    const results = await Promise.all(good.map(([name]) => inspectCheckpoint(join(fixtures, name))));
    expect(results.map((r) => r.num_parameters)).toEqual(good.map(([, e]) => e.num_parameters));
  });

  it("a folder that holds no weights", async () => {
    const error = await rejection(inspectCheckpoint(tempDir()));
    expect(error.code).toBe("UNSUPPORTED_FORMAT");
    expect(error.message).toMatch(/no weights found/);
  });

  it("a missing path", async () => {
    const error = await rejection(inspectCheckpoint("/nonexistent/ckpt.pt"));
    expect(error.code).toBe("NOT_FOUND");
  });

  it("a path that is not a string", async () => {
    const error = await rejection(inspectCheckpoint(42 as unknown as string));
    expect(error.code).toBe("INVALID_ARGUMENT");
  });
});

describe("config-tracker inspect", () => {
  it("prints a readable summary", () => {
    const result = runCli(["inspect", join(fixtures, "nanogpt_ckpt.pt")]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("parameters      89,568 (trainable 89,568, not exact)");
    expect(result.stdout).toContain("3 tensors named `bias` shaped as a causal mask (1x1x32x32) counted as buffers by name");
    expect(result.stdout).toContain("d_model 48, 3 layers, 4 heads, vocab 65, context 32 (from model_args)");
  });

  it("--json prints the ModelInfo", () => {
    const result = runCli(["inspect", join(fixtures, "hf_gpt2_folder"), "--json"]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject(expected.hf_gpt2_folder as object);
  });

  it("a bad file: exit 1 and one line on stderr", () => {
    const result = runCli(["inspect", "test/fixtures/checkpoints/truncated.pt"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^config-tracker inspect: test\/fixtures\/checkpoints\/truncated\.pt: .+\n$/);
  });

  it("inspect needs exactly one path", () => {
    expect(runCli(["inspect"]).status).toBe(2);
  });
});

describe("saveConfig with a checkpoint path", () => {
  it("records the model under the original keys", async () => {
    const dir = tempDir();
    await new ConfigTracker(dir, { git: false }).saveConfig({ lr: 1 }, { model: join(fixtures, "nanogpt_ckpt.pt") });
    const written = parsePythonJson(readFileSync(join(dir, "config.json"), "utf8")) as { model: Record<string, unknown> };
    expect(Object.keys(written.model).slice(0, 8)).toEqual([
      "type",
      "num_parameters",
      "num_trainable_parameters",
      "d_model",
      "num_layers",
      "num_heads",
      "vocab_size",
      "max_seq_len",
    ]);
    expect(written.model).toMatchObject({ type: "state_dict", num_parameters: 89568, d_model: 48, num_heads: 4 });
  });

  it("leaves unknown architecture keys out, as the original did", async () => {
    const dir = tempDir();
    const saved = await new ConfigTracker(dir, { git: false }).saveConfig({}, { model: join(fixtures, "cnn_state_dict.pt") });
    expect(saved.model).not.toHaveProperty("d_model");
    expect(saved.model?.num_parameters).toBe(expected["cnn_state_dict.pt"]?.num_parameters);
  });

  it("a bad checkpoint fails the save with its code and writes nothing", async () => {
    const dir = tempDir();
    const error = await rejection(
      new ConfigTracker(dir, { git: false }).saveConfig({}, { model: join(fixtures, "random_bytes.bin") }),
    );
    expect(error.code).toBe("UNSUPPORTED_FORMAT");
    expect(existsSync(join(dir, "config.json"))).toBe(false);
  });
});
