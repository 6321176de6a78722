// The main job on a bundled example: record a (pretend) GPT-2 training run the way a training
// launcher would, then read it back. Run with `npm run demo`.
import { ConfigTracker, getHardwareInfo } from "config-tracker";
import { join } from "node:path";

const experimentDir = join(process.cwd(), "experiments", `demo_${new Date().toISOString().replace(/[:.]/g, "-")}`);
const tracker = new ConfigTracker(experimentDir);

const config = {
  model: "gpt2-small",
  learning_rate: 6e-4,
  batch_size: 12,
  block_size: 1024,
  max_iters: 5000,
  betas: [0.9, 0.95],
  weight_decay: 0.1,
  compile: true,
};

const saved = await tracker.saveConfig(config, {
  model: { type: "GPT", num_parameters: 124439808, num_trainable_parameters: 124439808, d_model: 768, num_layers: 12, num_heads: 12 },
  dataset: { name: "shakespeare_char", train_tokens: 1003854, val_tokens: 111540 },
});

await tracker.saveResults({
  finalMetrics: { train_loss: 1.0523, val_loss: 1.4697, best_iter: 4750, diverged_run_loss: NaN },
  bestCheckpoint: join(experimentDir, "ckpt.pt"),
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
console.log(`  val_loss    ${loaded.final_metrics.val_loss}`);
