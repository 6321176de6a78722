// Writes the dashboard benchmark's run folders (bench/ui.js), in the files the tracker writes:
//   node bench/make_ui_runs.js many OUT   10,000 runs of 100 steps: 100 sweep folders of 100 runs
//   node bench/make_ui_runs.js wide OUT   1,500 runs of 1,500 metrics each, 10 to 30 steps (20 on
//                                         average): the "large" experiment of Aim / fasttrackml
//   node bench/make_ui_runs.js long OUT   50 runs of 100,000 steps (train_loss, lr; val_loss every
//                                         500 steps): the compare page's case
// One template run is recorded by the real ConfigTracker (saveConfig, logMetrics, saveResults) so
// config.json, status.json and results.json carry every key a real run has; each run is that
// template with its own id, start, config values, metrics log, and results derived from its log
// the way saveResults derives them (last value, min / max / count, best val_loss). Most runs
// are finished; one in fifty failed, one in a hundred was interrupted, one in two hundred is a
// lost "running" run (its heartbeat is hours old). Deterministic: the same files every time.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..");

/** A small deterministic generator (the same data on every machine). */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** A number as Python's json.dumps writes it (the tracker's metrics lines). */
const number = (value) => (Number.isFinite(value) ? String(value) : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
const line = (step, time, values) =>
  `{"step": ${step}, "time": ${number(time)}${Object.entries(values)
    .map(([key, value]) => `, ${JSON.stringify(key)}: ${number(value)}`)
    .join("")}}\n`;

async function template(work) {
  const { ConfigTracker } = await import(pathToFileURL(join(root, "dist", "index.js")).href);
  const dir = join(work, ".template");
  rmSync(dir, { recursive: true, force: true });
  const tracker = new ConfigTracker(dir, { git: false });
  await tracker.saveConfig(
    { learning_rate: 3e-4, batch_size: 12, seed: 0, optimizer: { name: "adamw", betas: [0.9, 0.95], weight_decay: 0.1 }, model: { n_layer: 6, n_head: 6, n_embd: 384 } },
    { dataset: { name: "shakespeare_char", train_tokens: 1003854 }, model: { type: "GPT", num_parameters: 10745088, num_trainable_parameters: 10745088, num_layers: 6, d_model: 384, num_heads: 6 } },
  );
  for (let step = 0; step < 10; step++) tracker.logMetrics(step, { train_loss: 4 - step / 10, lr: 3e-4 });
  tracker.logMetrics(9, { val_loss: 3.2 });
  await tracker.saveResults();
  const read = (name) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  const files = { config: read("config.json"), status: read("status.json"), results: read("results.json") };
  rmSync(dir, { recursive: true, force: true });
  return files;
}

/** results.json as saveResults derives it from a log: last, min, max, count, best val_loss. */
function results(base, id, startedAt, records, directions) {
  const final = {};
  const summary = {};
  let best = null;
  for (const { step, values } of records) {
    for (const [name, value] of Object.entries(values)) {
      final[name] = value;
      const entry = (summary[name] ??= { last: value, min: value, max: value, count: 0, last_step: step });
      entry.last = value;
      entry.min = Math.min(entry.min, value);
      entry.max = Math.max(entry.max, value);
      entry.count += 1;
      entry.last_step = step;
      if (directions[name] === "min" && (best === null || value < best.value)) best = { name, value, step };
    }
  }
  if (best) {
    final[`best_${best.name}`] = best.value;
    final[`best_${best.name}_step`] = best.step;
  }
  const last = records.at(-1);
  final.total_time_seconds = last ? Math.round((last.time - startedAt) * 1000) / 1000 : 0;
  return { ...base, experiment_id: id, timestamp: new Date((last?.time ?? startedAt) * 1000).toISOString(), final_metrics: final, summary, best_checkpoint: null, warnings: [] };
}

function statusFor(base, index, startedAt, endedAt, lastStep) {
  const iso = (seconds) => new Date(seconds * 1000).toISOString();
  const status = { ...base, started_at: iso(startedAt), updated_at: iso(endedAt), ended_at: iso(endedAt), pid: 40000 + (index % 20000), host: `gpu-node-${String(index % 32).padStart(2, "0")}`, boot_id: null, last_step: lastStep, error: null };
  if (index % 200 === 199) return { ...status, status: "running", ended_at: null }; // lost: an old heartbeat
  if (index % 50 === 49) return { ...status, status: "failed", exit_code: 1, error: "RuntimeError: CUDA out of memory" };
  if (index % 100 === 98) return { ...status, status: "interrupted", signal: "SIGTERM" };
  return { ...status, status: "finished", exit_code: 0 };
}

function writeRun(dir, files, index, { id, config, startedAt, records, directions }) {
  mkdirSync(dir, { recursive: true });
  const last = records.at(-1);
  const status = statusFor(files.status, index, startedAt, last ? last.time : startedAt, last ? last.step : null);
  writeFileSync(join(dir, "config.json"), `${JSON.stringify({ ...files.config, experiment_id: id, timestamp: new Date(startedAt * 1000).toISOString(), config }, null, 2)}\n`);
  writeFileSync(join(dir, "status.json"), `${JSON.stringify(status, null, 2)}\n`);
  writeFileSync(join(dir, "metrics.jsonl"), records.map((record) => line(record.step, record.time, record.values)).join(""));
  if (status.status !== "running") writeFileSync(join(dir, "results.json"), `${JSON.stringify(results(files.results, id, startedAt, records, directions), null, 2)}\n`);
}

const START = Date.parse("2026-11-01T00:00:00Z") / 1000;

export async function makeMany(out, count = 10_000, steps = 100) {
  const files = await template(out);
  const lrs = [1e-4, 2e-4, 3e-4, 6e-4, 1e-3];
  for (let index = 0; index < count; index++) {
    const next = random(index + 1);
    const sweep = `sweep-${String(Math.floor(index / 100)).padStart(3, "0")}`;
    const lr = lrs[index % lrs.length];
    const batch = [8, 12, 16, 32][Math.floor(index / 5) % 4];
    const seed = Math.floor(index / 20) % 5;
    const name = `lr=${lr},bs=${batch},seed=${seed}`;
    const startedAt = START + index * 60;
    const rate = lr * 4000;
    const records = [];
    for (let step = 0; step < steps; step++) {
      const train = 1 + 3 * Math.exp((-step * rate) / steps) + 0.05 * (next() - 0.5);
      const values = { train_loss: train, lr: lr * Math.min(1, (step + 1) / 10), grad_norm: 0.5 + next() };
      if (step % 10 === 9) values.val_loss = train + 0.2 + 0.02 * next();
      records.push({ step, time: startedAt + step * 0.5, values });
    }
    const config = { ...files.config.config, learning_rate: lr, batch_size: batch, seed };
    writeRun(join(out, sweep, name), files, index, { id: name, config, startedAt, records, directions: { val_loss: "min" } });
  }
}

export async function makeWide(out, count = 1500, metrics = 1500) {
  const files = await template(out);
  const names = [];
  for (let i = 0; names.length < metrics; i++) {
    const layer = `layer_${String(Math.floor(i / 8)).padStart(3, "0")}`;
    names.push(`${layer}/${["attn_grad_norm", "mlp_grad_norm", "attn_weight_norm", "mlp_weight_norm", "act_mean", "act_std", "update_ratio", "attn_entropy"][i % 8]}`);
  }
  names.splice(0, 3, "train_loss", "val_loss", "lr");
  for (let index = 0; index < count; index++) {
    const next = random(index + 7);
    const steps = 10 + (index % 21); // 10..30: 20 on average
    const startedAt = START + index * 300;
    const records = [];
    for (let step = 0; step < steps; step++) {
      const values = {};
      for (let m = 0; m < names.length; m++) values[names[m]] = m === 2 ? 3e-4 : Math.round((2 + Math.sin(m + step / 3) + next()) * 1e6) / 1e6;
      records.push({ step: step * 100, time: startedAt + step * 30, values });
    }
    const name = `exp-${String(index).padStart(4, "0")}`;
    const config = { ...files.config.config, learning_rate: [1e-4, 3e-4, 1e-3][index % 3], seed: index % 10 };
    writeRun(join(out, name), files, index, { id: name, config, startedAt, records, directions: { val_loss: "min" } });
  }
}

export async function makeLong(out, count = 50, steps = 100_000) {
  const files = await template(out);
  for (let index = 0; index < count; index++) {
    const next = random(index + 1);
    const startedAt = START + index * 3600;
    const records = [];
    for (let step = 0; step < steps; step++) {
      const train = 4 * Math.exp((-step * (1 + index)) / 200000) + 1 + 0.1 * (next() - 0.5);
      const values = { train_loss: train, lr: 3e-4 };
      if (step % 500 === 0) values.val_loss = train + 0.3;
      records.push({ step, time: startedAt + step * 0.05, values });
    }
    const name = `lr_${index}`;
    const config = { ...files.config.config, learning_rate: 1e-4 * (1 + index) };
    writeRun(join(out, name), files, index, { id: name, config, startedAt, records, directions: { val_loss: "min" } });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [shape, out] = process.argv.slice(2);
  const make = { many: makeMany, wide: makeWide, long: makeLong }[shape];
  if (!make || !out) {
    console.error("usage: node bench/make_ui_runs.js many|wide|long OUT");
    process.exit(2);
  }
  const started = performance.now();
  await make(out);
  console.log(`wrote ${shape} runs under ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
