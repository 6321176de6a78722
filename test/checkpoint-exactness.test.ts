/**
 * What inspectCheckpoint says about its own exactness and about torch.load(weights_only=True),
 * on files torch 1.13 wrote (test/fixtures/checkpoints/make_fixtures.py; counts in expected.json).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { inspectCheckpoint } from "../src/checkpoint.js";

const fixtures = join(import.meta.dirname, "fixtures", "checkpoints");
const { fixtures: expected } = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as {
  fixtures: Record<string, Record<string, unknown>>;
};

describe("optimizer state tells parameters from buffers", () => {
  it("a buffer with no conventional name, full AdamW: exact, and says why", async () => {
    const info = await inspectCheckpoint(join(fixtures, "masked_buffer_adamw.pt"));
    const want = expected["masked_buffer_adamw.pt"];
    expect(info.num_parameters).toBe(want?.num_parameters);
    expect(info.num_trainable_parameters).toBe(want?.num_trainable_parameters);
    expect(info.num_buffer_elements).toBe(want?.num_buffer_elements);
    expect(info.exact).toBe(true);
    expect(info.exact_reason).toContain("7 trained parameters");
    expect(info.exact_reason).toContain("mask");
  });

  it("partially frozen, AdamW over the trainable part in two groups: torch's counts, not claimed exact", async () => {
    const info = await inspectCheckpoint(join(fixtures, "frozen_two_groups.pt"));
    const want = expected["frozen_two_groups.pt"];
    expect(info.num_parameters).toBe(want?.num_parameters);
    expect(info.num_trainable_parameters).toBe(want?.num_trainable_parameters);
    expect(info.num_buffer_elements).toBe(want?.num_buffer_elements);
    expect(info.exact).toBe(false);
    expect(info.exact_reason).toMatch(/cannot tell whether mask is a frozen parameter or a buffer/);
  });

  it("a state dict without optimizer state is not exact, and says so", async () => {
    const info = await inspectCheckpoint(join(fixtures, "cnn_state_dict.pt"));
    expect(info.exact).toBe(false);
    expect(info.exact_reason).toMatch(/no optimizer state/);
  });
});

describe("torch.load(weights_only=True)", () => {
  it("state dicts and training checkpoints need no class", async () => {
    for (const [name, want] of Object.entries(expected)) {
      if ("error" in want || name === "cnn_whole_module_frozen.pt") continue;
      const info = await inspectCheckpoint(join(fixtures, name));
      expect(info.classes_needed, name).toEqual([]);
    }
  });

  it("a whole pickled module is counted and names the classes it needs", async () => {
    const info = await inspectCheckpoint(join(fixtures, "cnn_whole_module_frozen.pt"));
    const want = expected["cnn_whole_module_frozen.pt"];
    expect(info.num_parameters).toBe(want?.num_parameters);
    expect(info.num_trainable_parameters).toBe(want?.num_trainable_parameters);
    expect(info.num_buffer_elements).toBe(want?.num_buffer_elements);
    expect(info.exact).toBe(true);
    expect(info.classes_needed).toContain("__main__.SmallCNN");
    expect(info.classes_needed).toContain("torch.nn.modules.conv.Conv2d");
  });
});
