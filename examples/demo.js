// The main job on a bundled example: record a nanoGPT training run the way a training launcher
// would (config, hardware, git, and the model read from its checkpoint), then read it back.
// Run with `npm run demo`.
import { ConfigTracker, getHardwareInfo } from "config-tracker";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// A nanoGPT checkpoint written by torch.save (test/fixtures/checkpoints/make_fixtures.py).
const checkpoint = join(dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures", "checkpoints", "nanogpt_ckpt.pt");

const experimentDir = join(process.cwd(), "experiments", `demo_${new Date().toISOString().replace(/[:.]/g, "-")}`);
const tracker = new ConfigTracker(experimentDir);

const config = {
  model: "nanogpt-tiny",
  learning_rate: 6e-4,
  batch_size: 12,
  block_size: 32,
  max_iters: 5000,
  betas: [0.9, 0.95],
  weight_decay: 0.1,
  compile: true,
};

const saved = await tracker.saveConfig(config, {
  model: checkpoint, // read by the addon: exact counts from the file's metadata, no Python
  dataset: { name: "shakespeare_char", train_tokens: 1003854, val_tokens: 111540 },
});

await tracker.saveResults({
  finalMetrics: { train_loss: 1.0523, val_loss: 1.4697, best_iter: 4750, diverged_run_loss: NaN },
  bestCheckpoint: checkpoint,
  generationSamples: ["ROMEO:\nWhat light through yonder window breaks?"],
});

const hardware = await getHardwareInfo();
const loaded = await tracker.loadResults();
console.log(`experiment ${saved.experiment_id}`);
console.log(`  written to  ${experimentDir}`);
console.log(`  files       config.json, results.json`);
console.log(`  git         ${saved.git_hash ?? saved.git?.error ?? "not recorded"}`);
console.log(
  `  gpus        ${hardware.gpu_available ? `${hardware.gpu_count} x ${hardware.gpu_model}` : `none (${hardware.gpu_unavailable_reason})`}`,
);
const model = saved.model ?? {};
console.log(
  `  model       ${model.num_parameters?.toLocaleString("en-US")} parameters (${model.num_trainable_parameters?.toLocaleString("en-US")} trainable), d_model ${model.d_model}, ${model.num_layers} layers, ${model.num_heads} heads`,
);
console.log(`  val_loss    ${loaded.final_metrics.val_loss}`);
