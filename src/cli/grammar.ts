/**
 * The command line's grammar: every command with its arguments, options, examples, exit statuses
 * and environment variables. The one source of the option parser (args.ts), of the help that
 * `--help`, `-h` and `help <command>` print (help.ts), and of docs/cli.md (a test holds the file
 * to it). Plain data: loading it costs nothing, and `help` loads nothing else.
 */

export interface OptionSpec {
  /** The long name, without its dashes. */
  name: string;
  /** A one-letter alias, without its dash. */
  short?: string;
  /** The value's placeholder (`KEY`) for an option that takes one; a flag when absent. */
  value?: string;
  /** May be given more than once (each value kept). */
  multiple?: boolean;
  /** What it does: one sentence or a few, unwrapped. */
  help: string;
  /** Accepted, not shown: what a sweep's SLURM array tasks are started with. */
  internal?: boolean;
}

export interface CommandSpec {
  name: string;
  /** The arguments after the name, as the usage line shows them. */
  synopsis: string;
  /** One line for the list of commands. */
  summary: string;
  /** What it does, in paragraphs (unwrapped). */
  description: string[];
  options: OptionSpec[];
  /** A heading and the options (of `options`) shown under it instead of under "Options". */
  optionGroups?: Array<{ heading: string; names: string[] }>;
  /** A command line and what it does. */
  examples: Array<[string, string]>;
  /** An exit status (or a range, "126, 127") and when. */
  exits: Array<[string, string]>;
  /** The variables of ENVIRONMENT this command reads. */
  environment: string[];
  /** The page with the whole story. */
  docs: string;
}

/** Every command's help option. */
export const HELP_OPTION: OptionSpec = { name: "help", short: "h", help: "show this help and exit" };

const JSON_OPTION: OptionSpec = { name: "json", help: "print JSON instead of the readable summary" };

/** Options of `run` that a sweep passes on to each of its runs. */
const RUN_OPTIONS: OptionSpec[] = [
  { name: "dir", value: "D", help: "the experiment folder" },
  { name: "root", value: "R", help: "the folder that holds the run's folder (default: runs)" },
  {
    name: "name",
    value: "N",
    help: "the run's folder name under the root (default: the script's name and the time, or the Slurm job id)",
  },
  { name: "config", value: "FILE.json", help: "the run's config: a JSON object (Python's NaN and Infinity accepted)" },
  {
    name: "set",
    value: "KEY=VALUE",
    multiple: true,
    help:
      "a config value: dotted keys nest, the value is JSON when it reads as JSON, else a string (a value that looks like a mistyped number or JSON is stored as a string with a warning; quote it as JSON, --set 'tag=\"1e-3x\"', to say it is one)",
  },
  {
    name: "checkpoints",
    value: "GLOB",
    help: "record the checkpoint files or folders matching GLOB once complete (a checkpoint recorded before, same path, size and modification time, is not recorded again)",
  },
  { name: "metrics-file", value: "PATH", help: "follow a metrics file the command writes (JSON lines, or CSV with a header)" },
  {
    name: "metrics-regex",
    value: "RE",
    multiple: true,
    help: "metrics from output lines matching RE, with named groups `step` and one per metric: 'iter (?<step>\\d+): loss (?<loss>[\\d.]+)' (the first that matches wins)",
  },
  { name: "interval", value: "SECONDS", help: "how often GPUs and processes are sampled (default 1; 0.05 to 3600)" },
  { name: "resume", help: "carry on a run whose config changed (the changes are recorded in config.json)" },
  {
    name: "model",
    value: "CHECKPOINT",
    help: "read the model (parameters, layers, d_model) from a checkpoint before the command starts, e.g. the one a fine-tune starts from (MFU needs the parameter count)",
  },
  {
    name: "best",
    value: "NAME=min|max",
    multiple: true,
    help: "a metric whose best value and step the results report, the first one picking the best checkpoint (default val_loss=min)",
  },
];

const pick = (options: OptionSpec[], names: string[]): OptionSpec[] =>
  names.map((name) => options.find((option) => option.name === name) as OptionSpec);

/** The run options a sweep passes on to each run, placeholders filled. */
export const SWEEP_RUN_OPTIONS = ["metrics-regex", "metrics-file", "checkpoints", "interval", "best", "model"] as const;

const GPU_VARIABLES = ["CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"];
const GPU_LIBRARIES = [
  "CONFIG_TRACKER_NVML_LIBRARY",
  "CONFIG_TRACKER_CUDA_LIBRARY",
  "CONFIG_TRACKER_ROCM_SMI_LIBRARY",
  "CONFIG_TRACKER_HIP_LIBRARY",
  "ROCM_PATH",
  "CONFIG_TRACKER_NVML_TIMEOUT_MS",
];

export const COMMANDS: CommandSpec[] = [
  {
    name: "run",
    synopsis: "[options] -- <command> [args...]",
    summary: "run a training command and record it: config, output, metrics, checkpoints, GPU and process samples, results",
    description: [
      "Runs <command> with this terminal's stdin and records it as an experiment: config.json (the config, the command, the hardware and the Python and torch the command sees, git), status.json, output.log (everything it prints, also shown here), metrics.jsonl (its JSON lines with a numeric \"step\", --metrics-regex, --metrics-file), checkpoints.jsonl, system.jsonl (GPUs, its processes and the host every interval) and results.json at the end.",
      "Prints the experiment folder on stderr when it starts, and again with the outcome at the end. Running again into a folder with the same config resumes it; a different config is refused naming the changed keys, unless --resume. SIGINT, SIGTERM and SIGHUP are passed on to the command and the run is recorded as interrupted; if the wrapper itself is killed (SIGKILL), the command runs on to its end, its output going on into output.log, and nothing more is recorded (the run is lost).",
    ],
    options: RUN_OPTIONS,
    examples: [
      ["config-tracker run --root runs --name gpt2 -- python train.py", "record a training script into runs/gpt2/"],
      [
        "config-tracker run --set lr=3e-4 --set model.d_model=768 --checkpoints 'out/*.pt' -- python train.py",
        "with config values, and its checkpoints recorded as they are written",
      ],
      [
        "config-tracker run --metrics-regex 'iter (?<step>\\d+): loss (?<loss>[\\d.]+)' -- python train.py",
        "metrics taken from lines such as \"iter 100: loss 2.3012\"",
      ],
    ],
    exits: [
      ["N", "the command's exit status (0 when it succeeded); killed by a signal, the wrapper ends by the same signal (a shell shows 128+N)"],
      ["1", "refused before the command started: the folder holds another config (give --resume), a live run is using it, --model cannot be read, config.json cannot be written"],
      ["2", "bad usage: an unknown option, a bad value, a --config file that is missing or not a JSON object"],
      ["126, 127", "the command could not be started (not executable, not found)"],
    ],
    environment: [...GPU_VARIABLES, "CONFIG_TRACKER_PYTHON", "CONFIG_TRACKER_DISABLE_GIT", "SLURM_JOB_ID", "SLURM_NODEID, NODE_RANK, GROUP_RANK", ...GPU_LIBRARIES],
    docs: "docs/run.md",
  },
  {
    name: "sweep",
    synopsis: "--grid grid.json [options] -- <command with {placeholders}>",
    summary: "run every combination of a grid as a `run`, on free GPUs or as a SLURM job array",
    description: [
      "Runs every combination of the grid (a JSON object of lists: {\"lr\": [0.001, 0.0003], \"bs\": [32, 64]}) as a `config-tracker run` into ROOT/<name> (runs/lr=0.001,bs=32), the combination as its config and its values filled into the command: {lr}, {bs}, and {run_name}, {run_dir}. The command is argv (values are never split or interpreted), except the script of `sh -c SCRIPT`, where they are quoted for sh.",
      "Writes ROOT/sweep.json; a combination that finished is skipped when the sweep runs again. Ctrl-C stops every run (each recorded as interrupted) and ends the sweep by SIGINT.",
    ],
    options: [
      { name: "grid", value: "FILE", help: "the grid: a JSON object of non-empty lists (required)" },
      { name: "root", value: "R", help: "the sweep's folder (default: runs)" },
      {
        name: "gpus",
        value: "all|none|0,2,3",
        help: "the GPUs to hand out, by nvidia-smi index (default: all); a GPU with a compute process on it is not used until it is free. GPU indices on a host without GPUs are refused",
      },
      { name: "gpus-per-run", value: "N", help: "GPUs per run (default 1); with SLURM: --gres=gpu:N" },
      { name: "parallel", value: "K", help: "at most K runs at once (default: as the GPUs allow; 1 without GPUs)" },
      { name: "rerun", help: "run finished combinations again (as resumptions of their folders)" },
      { name: "launcher", value: "local|slurm", help: "this host (default), or one SLURM job array (sbatch --array)" },
      { name: "wait", help: "SLURM: wait for the array to end and report each run" },
      { name: "sbatch", value: "OPT", multiple: true, help: "SLURM: an #SBATCH option, e.g. --sbatch=--partition=gpu" },
      { name: "dry-run", help: "print what would run (and the batch script); run nothing" },
      ...pick(RUN_OPTIONS, [...SWEEP_RUN_OPTIONS]),
      { name: "task", value: "MANIFEST", internal: true, help: "run one combination of a SLURM array (what the batch script runs)" },
      { name: "sweep-id", value: "ID", internal: true, help: "the sweep the manifest must still be" },
    ],
    optionGroups: [{ heading: "Passed to each `config-tracker run` ({placeholders} filled)", names: [...SWEEP_RUN_OPTIONS] }],
    examples: [
      ["config-tracker sweep --grid grid.json --root runs/lr -- python train.py --lr {lr}", "one run per free GPU of this host"],
      [
        "config-tracker sweep --grid grid.json --launcher slurm --sbatch=--partition=gpu -- python train.py --lr {lr}",
        "one SLURM job array",
      ],
      ["config-tracker sweep --grid grid.json --dry-run -- python train.py --lr {lr}", "print the runs it would start"],
    ],
    exits: [
      ["0", "every combination finished (or, with SLURM and no --wait, was submitted)"],
      ["1", "a combination did not finish (each one's outcome is in the table)"],
      ["2", "bad usage or a bad grid"],
      ["130", "stopped by Ctrl-C (the sweep ends by SIGINT)"],
    ],
    environment: [...GPU_VARIABLES, "CONFIG_TRACKER_NVML_LIBRARY", "CONFIG_TRACKER_PYTHON", "CONFIG_TRACKER_DISABLE_GIT"],
    docs: "docs/sweeps.md",
  },
  {
    name: "hardware",
    synopsis: "[--python PYTHON] [--json]",
    summary: "GPUs (NVML, ROCm SMI), driver and CUDA versions, CPU, memory, Python and torch",
    description: [
      "What config.json records as \"hardware\": the GPUs this process may use (CUDA_VISIBLE_DEVICES and the ROCm variables applied as CUDA and ROCm apply them) and how many the host has, the driver and CUDA versions, the CPU and memory, and the Python and torch of the interpreter a trainer would run. No GPU or no driver is a normal answer that says why.",
    ],
    options: [
      {
        name: "python",
        value: "PYTHON",
        help: "the interpreter to ask about torch: a path, or a name looked up on PATH (default: $CONFIG_TRACKER_PYTHON, else python3; pyenv's shims are followed)",
      },
      JSON_OPTION,
    ],
    examples: [
      ["config-tracker hardware", "the summary"],
      ["config-tracker hardware --python ~/.pyenv/versions/3.11.9/bin/python --json", "as JSON, torch as that interpreter sees it"],
    ],
    exits: [
      ["0", "the answer (with or without a GPU)"],
      ["1", "the native addon could not be loaded (the message says why and what to do)"],
      ["2", "bad usage"],
    ],
    environment: [...GPU_VARIABLES, "CONFIG_TRACKER_PYTHON", "CONFIG_TRACKER_CACHE_DIR", ...GPU_LIBRARIES, "CONFIG_TRACKER_ADDON"],
    docs: "docs/hardware.md",
  },
  {
    name: "inspect",
    synopsis: "<path> [--json]",
    summary: "parameter counts and architecture of a checkpoint file or folder",
    description: [
      "Counts a checkpoint's parameters exactly from its metadata, never running its pickle code: torch.save files (zip or legacy), TorchScript, whole pickled modules, safetensors, sharded *.index.json folders, Hugging Face model folders and torch.distributed.checkpoint folders. Prints the format, parameters (trainable), buffers, tensors, dtypes and the architecture (layers, d_model, heads, vocabulary, context).",
    ],
    options: [JSON_OPTION],
    examples: [
      ["config-tracker inspect out/ckpt.pt", "the summary of a nanoGPT checkpoint"],
      ["config-tracker inspect hf-model/ --json", "a Hugging Face folder, as JSON"],
    ],
    exits: [
      ["0", "read"],
      ["1", "the checkpoint cannot be read (missing, truncated, corrupt, an unknown format, no permission)"],
      ["2", "bad usage"],
    ],
    environment: ["CONFIG_TRACKER_ADDON"],
    docs: "docs/checkpoints.md",
  },
  {
    name: "ls",
    synopsis: "[ROOT] [--sort KEY] [--metrics A,B] [--json]",
    summary: "one line per run under ROOT: status, start, duration, git, GPUs, parameters, final metrics",
    description: [
      "Finds every run (a folder holding config.json) under ROOT (default runs), at any depth, and prints one line per run: name, status, start (local time), duration (from the first start, resumptions included; a lost run's to its last heartbeat or metrics record), git short hash (* for uncommitted changes), GPU model x count, parameters, and final metrics. A run that cannot be read is left out with a warning.",
    ],
    options: [
      {
        name: "sort",
        value: "KEY",
        help: "sort by a column (start, name, id, status, duration, params, git, gpu), a final metric the runs have (val_loss), or a config.json key (config.lr, model.num_layers); --sort=-KEY sorts descending; runs without the value come last",
      },
      { name: "metrics", value: "A,B", help: "the metric columns (default: up to three of val_loss, eval_loss, loss, train_loss, accuracy, ... that the runs have)" },
      { name: "json", help: "print the entries as JSON, with every final metric" },
    ],
    examples: [
      ["config-tracker ls", "the runs under runs/, oldest first"],
      ["config-tracker ls experiments --sort val_loss --metrics val_loss,train_loss", "best val_loss first"],
      ["config-tracker ls runs --sort=-start --json", "newest first, as JSON"],
    ],
    exits: [
      ["0", "listed (an empty ROOT too)"],
      ["1", "ROOT does not exist, or a run could not be read (left out, with a warning)"],
      ["2", "bad usage, or --sort names nothing the runs have"],
    ],
    environment: [],
    docs: "docs/compare.md",
  },
  {
    name: "show",
    synopsis: "<run> [--json]",
    summary: "one run on one page: status, times, git, hardware, model, metrics, resumes, ranks, GPUs, checkpoints",
    description: [
      "One run on one page: status (with exit code, signal, error, or why it is lost), times, git, the command, host, GPUs, torch and Python, model, dataset, config, final metrics with their range, MFU, resumptions, ranks and nodes, what the GPUs and processes did, and the last checkpoints with the best one marked.",
    ],
    options: [{ name: "json", help: "print all of it as JSON, with the files' contents" }],
    examples: [["config-tracker show runs/gpt2", "the run recorded in runs/gpt2/"]],
    exits: [
      ["0", "shown"],
      ["1", "not a run's folder, or its config.json cannot be read"],
      ["2", "bad usage"],
    ],
    environment: [],
    docs: "docs/compare.md",
  },
  {
    name: "diff",
    synopsis: "<a> <b> [--all] [--json]",
    summary: "what differs between two runs (config, hardware, git, model, dataset, final metrics), as dotted keys",
    description: [
      "What differs between two runs in config, hardware, git, model, dataset and final_metrics, one dotted key path per line (config.optimizer.betas[1]): ~ changed, - only in the first, + only in the second.",
    ],
    options: [
      { name: "all", help: "show the equal keys too" },
      JSON_OPTION,
    ],
    examples: [["config-tracker diff runs/lr_6e-4 runs/lr_3e-4", "what the second run changed"]],
    exits: [
      ["0", "the runs are the same"],
      ["1", "they differ"],
      ["2", "an error (a folder that is not a run, an unreadable config.json) or bad usage"],
    ],
    environment: [],
    docs: "docs/compare.md",
  },
  {
    name: "compare",
    synopsis: "<run|ROOT>... [--html FILE] [--metrics A,B] [--json]",
    summary: "the runs side by side: differing config keys, metrics (final and best), GPU, git; --html charts them",
    description: [
      "One row per run (runs, or every run under a ROOT): the config keys whose values differ, the chosen final metrics, each with its best value beside it (best_<metric>) when the runs recorded one, the GPUs and the git hash.",
      "--html writes one self-contained page (no network): the table, a chart per metric over steps with the runs overlaid, the GPUs' figures and the CPU and memory of each run's processes over time, and each run's status and hardware.",
    ],
    options: [
      { name: "html", value: "FILE", help: "also write the comparison page with charts to FILE" },
      { name: "metrics", value: "A,B", help: "the metric columns (default: up to three of val_loss, eval_loss, loss, train_loss, accuracy, ... that the runs have); one that no run has is a warning" },
      JSON_OPTION,
    ],
    examples: [
      ["config-tracker compare runs/lr-sweep", "every run of a sweep"],
      ["config-tracker compare runs/a runs/b --html report.html", "two runs, and their page"],
    ],
    exits: [
      ["0", "compared"],
      ["1", "no runs there, a run could not be read (left out, with a warning), or FILE could not be written"],
      ["2", "bad usage"],
    ],
    environment: [],
    docs: "docs/compare.md",
  },
  {
    name: "ui",
    synopsis: "[ROOT...] [--host H] [--port N] [--open] [--poll]",
    summary: "a live dashboard of the runs under ROOT in the browser: table, filters, charts, run pages, notes and tags",
    description: [
      "Serves a live page over the runs under each ROOT (default runs), at any depth, and prints its URL as the first line of its output; Ctrl-C (or SIGTERM) stops it. It reads the folders as they are and writes only the notes and tags given on the page. Off 127.0.0.1, every request needs the token the printed URL carries.",
    ],
    options: [
      { name: "host", value: "H", help: "the address to listen on (default 127.0.0.1; any other needs the token)" },
      { name: "port", value: "N", help: "the port (default 6007, or the next free one up to 6016; 0: any free port)" },
      { name: "open", help: "open the page in the browser" },
      { name: "poll", help: "look for changes by polling, as on network file systems where file watching is silent" },
      { name: "poll-interval", value: "SECONDS", help: "how often to look for changes (0.1 to 60; default 1)" },
      { name: "allow-host", value: "NAME", multiple: true, help: "a Host name the server answers besides its own address (behind a proxy)" },
      { name: "cache", value: "user|beside|off", help: "where the metrics column cache lives: the user's cache folder (default), beside each log, or nowhere" },
    ],
    examples: [
      ["config-tracker ui", "the runs under runs/, on http://127.0.0.1:6007"],
      ["config-tracker ui /shared/runs --host 0.0.0.0 --poll", "on a cluster's shared storage, reachable from other machines"],
    ],
    exits: [
      ["0", "stopped by Ctrl-C or SIGTERM"],
      ["2", "bad usage, or the port given is taken"],
    ],
    environment: ["CONFIG_TRACKER_UI_TOKEN", "CONFIG_TRACKER_CACHE_DIR"],
    docs: "docs/ui.md",
  },
];

/** Every variable a command reads, with what it does. */
export const ENVIRONMENT: Array<[string, string]> = [
  ["CUDA_VISIBLE_DEVICES", "the GPUs a command may use, applied as CUDA applies it (and HIP, on AMD GPUs)"],
  ["ROCR_VISIBLE_DEVICES", "AMD GPUs: applied as the ROCm runtime applies it, before HIP_VISIBLE_DEVICES"],
  ["HIP_VISIBLE_DEVICES", "AMD GPUs: applied as HIP applies it"],
  ["CONFIG_TRACKER_PYTHON", "the interpreter that runs the trainer, asked which Python and torch it has (default: python3 on PATH; run: the command's own interpreter)"],
  ["CONFIG_TRACKER_DISABLE_GIT", "1: record no git state"],
  ["CONFIG_TRACKER_CACHE_DIR", "where answers worth keeping are cached (torch's version, the dashboard's columns); default $XDG_CACHE_HOME/config-tracker, else ~/.cache/config-tracker; empty: no cache"],
  ["SLURM_JOB_ID", "run: part of the default folder name, so every node of a job names the same folder"],
  ["SLURM_NODEID, NODE_RANK, GROUP_RANK", "run: this node's rank in a job of several nodes (node 0 records the run)"],
  ["CONFIG_TRACKER_NVML_LIBRARY", "path of the NVML library to load (default libnvidia-ml.so.1)"],
  ["CONFIG_TRACKER_CUDA_LIBRARY", "path of the CUDA driver library to load (default libcuda.so.1)"],
  ["CONFIG_TRACKER_ROCM_SMI_LIBRARY", "path of the ROCm SMI library to load (default: where ROCm installs librocm_smi64)"],
  ["CONFIG_TRACKER_HIP_LIBRARY", "path of the HIP runtime library whose name gives the HIP version (default libamdhip64.so.*)"],
  ["ROCM_PATH", "where ROCm is installed (its lib/ is searched for ROCm SMI and HIP)"],
  ["CONFIG_TRACKER_NVML_TIMEOUT_MS", "bound on a GPU library's initialisation (default 10000)"],
  ["CONFIG_TRACKER_ADDON", "path of a built config_tracker.node to load instead of the packaged one"],
  ["CONFIG_TRACKER_UI_TOKEN", "ui: the token instead of a random one"],
];

/** Every command exits so unless its help says otherwise. */
export const EXIT_STATUSES: Array<[string, string]> = [
  ["0", "success (with or without a GPU)"],
  ["1", "a bad input: a file or folder that is missing or cannot be read, a run that cannot be recorded"],
  ["2", "bad usage: an unknown command or option, a missing or bad value"],
];

/** The commands whose exit statuses say more than EXIT_STATUSES. */
export const EXIT_EXCEPTIONS = "run exits as its command did; diff as diff(1) does (0 same, 1 different, 2 error); sweep 1 when a combination did not finish.";

export const PROGRAM = "config-tracker";

/** The program's own options (before a command). */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: "help", short: "h", help: "show this help (config-tracker <command> --help: a command's)" },
  { name: "version", short: "v", help: "print the package version" },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
