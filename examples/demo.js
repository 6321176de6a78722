// The main job on a bundled example: a nanoGPT-style training run recorded from scratch, stopped
// by SIGTERM (a preemption) part way, resumed from its last checkpoint, and finished; then two
// more runs at other learning rates, and a comparison of the three: the table `config-tracker
// compare` prints and its HTML page. The "trainer" is this same file run as a child process; its
// checkpoints are copies of a real torch.save file (test/fixtures/checkpoints/nanogpt_ckpt.pt),
// counted by the native reader. Run with `npm run demo`.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigTracker, formatCompareTable, listRuns, renderReport } from "config-tracker";

const here = dirname(fileURLToPath(import.meta.url));
const bundledCheckpoint = join(here, "..", "test", "fixtures", "checkpoints", "nanogpt_ckpt.pt");
const baseConfig = { model: "nanogpt-tiny", learning_rate: 6e-4, batch_size: 12, block_size: 32, max_iters: 500, eval_interval: 100 };
const dataset = { name: "shakespeare_char", train_tokens: 1003854, val_tokens: 111540 };

if (process.argv[2] === "train") await train(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else await main();

/** One training session: from `fromStep` (0: from scratch) to max_iters, or until a signal. */
async function train(experimentDir, fromStep, learningRate) {
  const config = { ...baseConfig, learning_rate: learningRate };
  const speed = learningRate / 6e-4; // a larger rate learns faster here, and overfits sooner
  const tracker = new ConfigTracker(experimentDir);
  await tracker.saveConfig(
    config,
    fromStep === 0 ? { dataset } : { dataset, fromCheckpoint: join(experimentDir, "ckpt", `step_${fromStep}.pt`), fromStep },
  );
  for (let step = fromStep; step <= config.max_iters; step++) {
    await new Promise((resolve) => setTimeout(resolve, 2)); // the forward and backward pass
    const train_loss = 4.2 * Math.exp((-step * speed) / 180) + 1.0 + 0.02 * Math.sin(step);
    tracker.logMetrics(step, { train_loss, lr: config.learning_rate * Math.min(1, (step + 1) / 50), tokens: 12 * 32 });
    if (step % config.eval_interval === 0 && step > 0) {
      const val_loss = train_loss + 0.35 + Math.max(0, (step * speed - 300) / 400); // it overfits after step 300
      tracker.logMetrics(step, { val_loss });
      const path = join(experimentDir, "ckpt", `step_${step}.pt`);
      mkdirSync(dirname(path), { recursive: true });
      copyFileSync(bundledCheckpoint, path); // torch.save(checkpoint, path)
      await tracker.recordCheckpoint(path, { step });
      console.log(`checkpoint ${step}`);
    }
  }
  await tracker.saveResults({ generationSamples: ["ROMEO:\nWhat light through yonder window breaks?"] });
}

function session(experimentDir, fromStep, stopAfterCheckpoint, learningRate = baseConfig.learning_rate) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "train", experimentDir, String(fromStep), String(learningRate)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout.on("data", (data) => {
      if (stopAfterCheckpoint !== null && String(data).includes(`checkpoint ${stopAfterCheckpoint}`)) {
        setTimeout(() => child.kill("SIGTERM"), 100); // preempted a little after that checkpoint
      }
    });
    child.on("close", (code, signal) => resolve(signal ?? code));
  });
}

async function main() {
  const demoRoot = join(process.cwd(), "experiments", `demo_${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const experimentDir = join(demoRoot, `lr_${baseConfig.learning_rate.toExponential()}`);
  const tracker = new ConfigTracker(experimentDir);

  const ended = await session(experimentDir, 0, 200);
  const stopped = await tracker.loadStatus();
  console.log(`session 1   ended by ${ended}: status ${stopped.status} at step ${stopped.last_step}`);

  const resumeFrom = (await tracker.loadCheckpoints()).at(-1).step;
  await session(experimentDir, resumeFrom, null);
  const status = await tracker.loadStatus();
  const saved = await tracker.loadConfig();
  const results = await tracker.loadResults();
  const log = tracker.readMetrics();
  const records = await log.toArray();

  const m = results.final_metrics;
  const model = saved.model ?? {};
  const n = (value) => value.toLocaleString("en-US");
  console.log(`session 2   resumed from step ${resumeFrom}: status ${status.status}`);
  console.log(`experiment  ${saved.experiment_id}`);
  console.log(`  folder    ${experimentDir}`);
  console.log(`  resumes   ${saved.resumes.map((r) => `from step ${r.from_step} (${r.from_checkpoint})`).join(", ")}`);
  console.log(`  metrics   ${n(records.length)} steps (${n(log.stats.lines)} lines; ${n(log.stats.superseded)} re-run after the resume, latest kept)`);
  console.log(`  model     ${n(model.num_parameters)} parameters, d_model ${model.d_model}, ${model.num_layers} layers, ${model.num_heads} heads (from ${model.source})`);
  console.log(`  best      val_loss ${m.best_val_loss.toFixed(4)} at step ${m.best_val_loss_step}: ${results.best_checkpoint}`);
  console.log(`  final     train_loss ${m.train_loss.toFixed(4)}, ${n(Math.round(m.tokens_per_second))} tokens/s, ${m.total_time_seconds.toFixed(1)} s in all`);

  // Two more runs at other learning rates, then the three compared.
  for (const learningRate of [3e-4, 1.2e-3]) await session(join(demoRoot, `lr_${learningRate.toExponential()}`), 0, null, learningRate);
  const runs = await listRuns(demoRoot);
  const page = join(demoRoot, "compare.html");
  writeFileSync(page, await renderReport(runs, { title: "config-tracker demo: three learning rates" }));
  console.log(`\n${formatCompareTable(runs)}`);
  console.log(`comparison page (open it in a browser; it needs no network):\n  ${page}`);
  console.log(`the same from the command line:\n  npx config-tracker compare ${join("experiments", demoRoot.split("/").pop())} --html compare.html`);
  console.log(`and live in the browser (every run under experiments/, Ctrl-C stops it):\n  npx config-tracker ui experiments`);
}
