/**
 * `config-tracker sweep --grid grid.json [options] -- <command with {placeholders}>`: every
 * combination of the grid as a `config-tracker run`, on this host's free GPUs or as a SLURM job
 * array. `sweep --task <manifest>` is what each SLURM array task runs.
 */
import { isConfigTrackerError } from "../errors.js";
import type { GpuSelection } from "../sweep/gpus.js";
import type { SweepOptions } from "../sweep/sweep.js";
import { parseCommandArgs, print, printError } from "./shared.js";

export const SWEEP_USAGE = `Usage: config-tracker sweep --grid grid.json [options] -- <command with {placeholders}>

Runs every combination of the grid (a JSON object of lists: {"lr": [0.001, 0.0003], "bs": [32, 64]})
as a \`config-tracker run\` into ROOT/<name> (e.g. runs/lr=0.001,bs=32), the combination as its
config and its values filled into the command: {lr}, {bs}, and {run_name}, {run_dir}. The command
is argv (values are never split or interpreted), except the script of \`sh -c SCRIPT\`, where they
are quoted for sh. Writes ROOT/sweep.json; a combination that finished is skipped next time.

Options:
  --grid FILE             the grid (JSON object of non-empty lists)
  --root R                the sweep's folder (default: runs)
  --gpus all|none|0,2,3   GPUs to hand out, by nvidia-smi index (default: all); a GPU with a
                          compute process on it (NVML) is not used until it is free
  --gpus-per-run N        GPUs per run (default 1); with SLURM: --gres=gpu:N
  --parallel K            at most K runs at once (default: as the GPUs allow; 1 without GPUs)
  --rerun                 run finished combinations again (as resumptions of their folders)
  --launcher local|slurm  this host (default), or one SLURM job array (sbatch --array)
  --wait                  SLURM: wait for the array to end and report each run
  --sbatch OPT            SLURM: an #SBATCH option, e.g. --sbatch=--partition=gpu; repeatable
  --dry-run               print what would run (and the batch script); run nothing
Passed to each \`config-tracker run\` ({placeholders} filled):
  --metrics-regex RE (repeatable), --metrics-file PATH, --checkpoints GLOB, --interval SECONDS,
  --best NAME=min|max (repeatable), --model CHECKPOINT

Exit status: 0 when every combination finished, 1 when one did not, 2 for bad usage or a bad
grid; after Ctrl-C, every run is stopped, recorded as interrupted, and the sweep ends by SIGINT.
`;

type Exit = number | { code: number } | { signal: NodeJS.Signals };

const RUN_OPTIONS = ["metrics-regex", "metrics-file", "checkpoints", "interval", "best", "model"] as const;

/** One line on stderr; bad usage and bad grids exit 2, anything else 1. */
function fail(message: string, code = 2): number {
  printError(`config-tracker sweep: ${message}\n`);
  return code;
}

export async function sweepCommand(argv: string[]): Promise<Exit> {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  if (own.includes("-h") || own.includes("--help")) {
    process.stdout.write(SWEEP_USAGE);
    return 0;
  }
  const parsed = parseCommandArgs(own, {
    grid: { type: "string" },
    root: { type: "string" },
    gpus: { type: "string" },
    "gpus-per-run": { type: "string" },
    parallel: { type: "string" },
    rerun: { type: "boolean", default: false },
    launcher: { type: "string" },
    wait: { type: "boolean", default: false },
    sbatch: { type: "string", multiple: true },
    "dry-run": { type: "boolean", default: false },
    task: { type: "string" },
    "sweep-id": { type: "string" },
    "metrics-regex": { type: "string", multiple: true },
    "metrics-file": { type: "string" },
    checkpoints: { type: "string" },
    interval: { type: "string" },
    best: { type: "string", multiple: true },
    model: { type: "string" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;

  // Inside a SLURM array task: become the combination's `config-tracker run`.
  if (values.task !== undefined) {
    const { arrayTaskRunArguments } = await import("../sweep/slurm.js");
    let runArgs: string[];
    try {
      runArgs = arrayTaskRunArguments(values.task, values["sweep-id"], process.env);
    } catch (error) {
      if (isConfigTrackerError(error)) return fail(error.message, 1);
      throw error;
    }
    const { runCliCommand } = await import("./run.js");
    return runCliCommand(runArgs);
  }

  if (positionals.length > 0) return fail(`unexpected ${positionals.join(" ")}: put the command after --`);
  if (values.grid === undefined) return fail("--grid FILE is required");
  if (command.length === 0) return fail("no command: config-tracker sweep --grid grid.json -- <command with {placeholders}>");
  const launcher = values.launcher ?? "local";
  if (launcher !== "local" && launcher !== "slurm") return fail(`--launcher ${launcher}: expected local or slurm`);
  const count = (name: "gpus-per-run" | "parallel"): number | undefined | null => {
    const text = values[name];
    if (text === undefined) return undefined;
    return /^\d+$/.test(text) && Number(text) >= 1 ? Number(text) : null;
  };
  const gpusPerRun = count("gpus-per-run");
  if (gpusPerRun === null) return fail(`--gpus-per-run ${values["gpus-per-run"]}: expected a whole number of at least 1`);
  const parallel = count("parallel");
  if (parallel === null) return fail(`--parallel ${values.parallel}: expected a whole number of at least 1`);
  if (launcher === "local" && (values.wait || values.sbatch !== undefined)) return fail("--wait and --sbatch are for --launcher slurm");

  const { parseGpuSelection } = await import("../sweep/gpus.js");
  const { readGridFile, checkPlaceholders } = await import("../sweep/grid.js");
  const runOptions: string[] = [];
  for (const name of RUN_OPTIONS) {
    const value = values[name];
    for (const item of value === undefined ? [] : Array.isArray(value) ? value : [value]) runOptions.push(`--${name}`, item);
  }
  let options: SweepOptions;
  try {
    let gpus: GpuSelection | undefined;
    if (values.gpus !== undefined) {
      if (launcher === "slurm") return fail("--gpus: SLURM picks the GPUs; ask for them with --gpus-per-run N");
      gpus = parseGpuSelection(values.gpus);
    }
    const grid = await readGridFile(values.grid);
    checkPlaceholders(command, grid, "the command");
    checkPlaceholders(runOptions, grid, "the run options");
    options = {
      grid,
      command,
      launcher,
      runOptions,
      rerun: values.rerun === true,
      dryRun: values["dry-run"] === true,
      wait: values.wait === true,
      log: (line) => printError(`${line}\n`),
      ...(values.root === undefined ? {} : { root: values.root }),
      ...(gpus === undefined ? {} : { gpus }),
      ...(gpusPerRun === undefined ? {} : { gpusPerRun }),
      ...(parallel === undefined ? {} : { parallel }),
      ...(values.sbatch === undefined ? {} : { sbatchOptions: values.sbatch }),
    };
  } catch (error) {
    if (isConfigTrackerError(error)) return fail(error.message);
    throw error;
  }

  const { runSweep } = await import("../sweep/sweep.js");
  const { formatSweepSummary } = await import("../sweep/summary.js");
  let result;
  try {
    result = await runSweep(options);
  } catch (error) {
    if (isConfigTrackerError(error)) return fail(error.message, error.code === "INVALID_ARGUMENT" ? 2 : 1);
    throw error;
  }
  if (result.plan !== undefined) {
    print(result.plan);
    return 0;
  }
  print(formatSweepSummary(result.combinations));
  // Then the runs side by side: the config keys that differ, final metrics, GPU, git.
  const { formatCompareTableOf } = await import("../views/compare-table.js");
  const table = await formatCompareTableOf(result.combinations.map((combination) => ({ dir: combination.dir, name: combination.name })));
  if (table !== "") print(`\n${table}`);
  if (result.interrupted !== null) return { signal: result.interrupted };
  const ok = new Set(["finished", "submitted", "running"]);
  return result.combinations.every((combination) => ok.has(combination.status)) ? 0 : 1;
}
