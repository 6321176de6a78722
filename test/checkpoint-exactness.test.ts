/**
 * What inspectCheckpoint says about its own exactness, quantized models and torch.load(weights_only=True),
 * on files torch 1.13 wrote (test/fixtures/checkpoints/make_fixtures.py; counts in expected.json).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { inspectCheckpoint } from "../src/checkpoint.js";
import type { ModelInfo } from "../src/checkpoint.js";

const fixtures = join(import.meta.dirname, "fixtures", "checkpoints");
const { fixtures: expected } = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as {
  fixtures: Record<string, Record<string, unknown>>;
};

/** The counts torch computed for a fixture (expected.json). */
function expectTorchCounts(info: ModelInfo, name: string): void {
  const want = expected[name];
  expect(info.num_parameters, name).toBe(want?.num_parameters);
  expect(info.num_trainable_parameters, name).toBe(want?.num_trainable_parameters);
  expect(info.num_buffer_elements, name).toBe(want?.num_buffer_elements);
}

describe("optimizer state tells parameters from buffers", () => {
  it("a buffer with no conventional name, full AdamW: exact, and says why", async () => {
    const info = await inspectCheckpoint(join(fixtures, "masked_buffer_adamw.pt"));
    expectTorchCounts(info, "masked_buffer_adamw.pt");
    expect(info.exact).toBe(true);
    expect(info.exact_reason).toContain("7 trained parameters");
    expect(info.exact_reason).toContain("mask");
  });

  it("partially frozen, AdamW over the trainable part in two groups: torch's counts, not claimed exact", async () => {
    const info = await inspectCheckpoint(join(fixtures, "frozen_two_groups.pt"));
    expectTorchCounts(info, "frozen_two_groups.pt");
    expect(info.exact).toBe(false);
    expect(info.exact_reason).toMatch(/cannot tell whether mask is a frozen parameter or a buffer/);
  });

  it("a state dict without optimizer state is not exact, and says so", async () => {
    const info = await inspectCheckpoint(join(fixtures, "cnn_state_dict.pt"));
    expect(info.exact).toBe(false);
    expect(info.exact_reason).toMatch(/no optimizer state/);
  });

  it("optimizer state for every trainable parameter, but names decided the rest: torch's counts, not exact", async () => {
    // FrozenBatchNorm2d (weight, bias, running stats: all buffers, no num_batches_tracked) and a
    // frozen convolution beside SGD's momentum for the rest.
    const info = await inspectCheckpoint(join(fixtures, "frozen_bn_sgd.pt"));
    expectTorchCounts(info, "frozen_bn_sgd.pt");
    expect(info.exact).toBe(false);
    expect(info.exact_reason).toContain(
      "8 tensors of BatchNorm layers without num_batches_tracked (FrozenBatchNorm2d) counted as buffers by name",
    );
    expect(info.exact_reason).toContain("1 tensor named weight or bias (8x3x3x3) counted as a frozen parameter by name");
  });

  it("a state dict says which buffers its names made", async () => {
    const info = await inspectCheckpoint(join(fixtures, "build_gpt_lecture.pt"));
    expect(info.num_buffer_elements).toBe(expected["build_gpt_lecture.pt"]?.num_buffer_elements);
    expect(info.exact_reason).toContain("8 tensors named `tril` (16x16) counted as buffers by name");
  });
});

describe("quantized models", () => {
  it("packed int8 weights and biases are parameters torch does not train; scales and zero points buffers", async () => {
    for (const name of ["quantized_dynamic.pt", "quantized_dynamic_module.pt"]) {
      const info = await inspectCheckpoint(join(fixtures, name));
      const { dtypes, ...want } = expected[name] as Record<string, unknown>;
      expect(info, name).toMatchObject(want);
      expect(info.dtypes, name).toEqual(dtypes);
      expect(info.dtypes.qint8, name).toBeGreaterThan(0);
    }
  });
});

describe("torch.load(weights_only=True)", () => {
  it("state dicts and training checkpoints of plain tensors need no class", async () => {
    for (const [name, want] of Object.entries(expected)) {
      if ("error" in want || want.type !== "state_dict" || name.startsWith("quantized")) continue;
      const info = await inspectCheckpoint(join(fixtures, name));
      expect(info.classes_needed, name).toEqual([]);
    }
  });

  it("a whole module saved in the legacy format is read as the zip format's: the same counts and classes", async () => {
    const legacy = await inspectCheckpoint(join(fixtures, "cnn_legacy_whole_module.pt"));
    const zip = await inspectCheckpoint(join(fixtures, "cnn_whole_module_frozen.pt"));
    expect(legacy.format).toBe("torch-legacy");
    expect({ ...legacy, format: "", source: "", files: [] }).toEqual({ ...zip, format: "", source: "", files: [] });
  });

  it("a whole pickled module is counted and names the classes it needs", async () => {
    const info = await inspectCheckpoint(join(fixtures, "cnn_whole_module_frozen.pt"));
    expectTorchCounts(info, "cnn_whole_module_frozen.pt");
    expect(info.exact).toBe(true);
    expect(info.classes_needed).toContain("__main__.SmallCNN");
    expect(info.classes_needed).toContain("torch.nn.modules.conv.Conv2d");
  });
});
