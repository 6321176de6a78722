/**
 * Which Python and torch the trainer runs: the interpreter given (or the `python3` on the
 * trainer's PATH), its version, and the torch it would import, read from torch's installed version.py rather
 * than by importing torch (which takes seconds and may initialise CUDA). Bounded in time; null
 * when there is no python3, no torch, or no answer in time.
 *
 * Starting Python costs 10-50 ms, more than everything else saveConfig does. The answer is cached
 * on disk with what it depends on (the interpreter, the sys.path folders, version.py, each with
 * its mtime, and the PYTHON* variables); a later process re-checks those with a few stat calls and
 * starts Python again only when one changed. Installing or removing a package changes its
 * folder's mtime, so a new torch is never missed.
 */
import { constants } from "node:fs";
import { access, mkdir, readFile, realpath, stat } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { homedir } from "node:os";

// child_process and the atomic writer load only when Python must be asked (a cache miss): a CLI
// process that finds the answer cached does not pay for them.

export interface TorchInfo {
  torch_version: string | null;
  /** The CUDA toolkit torch was built with ("12.4"), null for CPU-only and ROCm builds. */
  torch_cuda_version: string | null;
  /** The HIP torch was built with (torch.version.hip, "6.2.41133-dd7f95766"), null except on ROCm builds. */
  torch_hip_version: string | null;
  /** platform.python_version() of the interpreter, null when there is none. */
  python_version: string | null;
  /** sys.executable of the interpreter. */
  python_executable: string | null;
}

const NO_PYTHON: TorchInfo = {
  torch_version: null,
  torch_cuda_version: null,
  torch_hip_version: null,
  python_version: null,
  python_executable: null,
};

// find_spec locates the package without executing it; sys.path is what the answer depends on.
const FIND_TORCH = [
  "import importlib.util as u, json, platform, sys",
  "s = u.find_spec('torch')",
  "d = (s.submodule_search_locations or [None])[0] if s else None",
  "print(json.dumps({'torch_dir': d, 'sys_path': [p for p in sys.path if p],",
  "  'python_version': platform.python_version(), 'python_executable': sys.executable}))",
].join("\n");

/** The variables that change which Python runs and what it imports. */
export const PYTHON_VARIABLES = [
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONNOUSERSITE",
  "PYTHONUSERBASE",
  "PYTHONSAFEPATH",
  "VIRTUAL_ENV",
  "CONDA_PREFIX",
  "PYENV_VERSION",
];

interface ProbeAnswer {
  torch_dir: string | null;
  sys_path: string[];
  python_version: string | null;
  python_executable: string | null;
}

interface CacheEntry {
  stamps: Array<[string, number | null]>; // path, mtimeMs (null: absent)
  result: TorchInfo;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(command: string, path: string, skip: (dir: string) => boolean = () => false) {
  for (const dir of path.split(delimiter)) {
    if (!dir || skip(dir)) continue;
    const candidate = join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function readFirstExisting(paths: string[]): Promise<string | null> {
  for (const path of paths) {
    try {
      return await readFile(path, "utf8");
    } catch {
      // next
    }
  }
  return null;
}

async function mtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * pyenv's shim is a shell script that takes ~200 ms to pick an interpreter. Pick it the way
 * pyenv does (PYENV_VERSION, then .python-version up the tree, then the global version file) and
 * run the interpreter directly; fall back to the shim when unsure.
 */
async function resolvePyenvShim(shim: string, env: NodeJS.ProcessEnv): Promise<string> {
  const root = env.PYENV_ROOT ?? dirname(dirname(shim));
  let spec = env.PYENV_VERSION ?? null;
  if (spec === null) {
    const localFiles: string[] = [];
    for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
      localFiles.push(join(dir, ".python-version"));
      if (dirname(dir) === dir) break;
    }
    spec = await readFirstExisting([...localFiles, join(root, "version")]);
  }
  const versions = (spec ?? "system").split(/[\s:]+/).filter((v) => v && !v.startsWith("#"));
  for (const version of versions) {
    if (version === "system") {
      const system = await findOnPath("python3", env.PATH ?? "", (dir) => resolve(dir) === resolve(dirname(shim)));
      if (system) return system;
      continue;
    }
    const candidate = join(root, "versions", version, "bin", "python3");
    if (await isExecutable(candidate)) return candidate;
  }
  return shim;
}

async function runPython(python: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<ProbeAnswer | null> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolvePromise) => {
    execFile(
      python,
      ["-c", FIND_TORCH],
      { timeout: timeoutMs, killSignal: "SIGKILL", env: { ...env, PYTHONDONTWRITEBYTECODE: "1" }, maxBuffer: 1024 * 1024 },
      (error, stdout) => {
        if (error) return resolvePromise(null);
        try {
          resolvePromise(JSON.parse(String(stdout)) as ProbeAnswer);
        } catch {
          resolvePromise(null);
        }
      },
    );
  });
}

/** Reads `__version__`, `cuda` and `hip` from torch/version.py (quoted literals, or None). */
export function parseTorchVersionFile(
  text: string,
): Pick<TorchInfo, "torch_version" | "torch_cuda_version" | "torch_hip_version"> {
  const field = (name: string): string | null => {
    const match = new RegExp(`^${name}\\s*(?::[^=\\n]*)?=\\s*(?:'([^']*)'|"([^"]*)"|None)`, "m").exec(text);
    return match ? (match[1] ?? match[2] ?? null) : null;
  };
  return { torch_version: field("__version__"), torch_cuda_version: field("cuda"), torch_hip_version: field("hip") };
}

function cacheFile(env: NodeJS.ProcessEnv): string | null {
  if (env.CONFIG_TRACKER_CACHE_DIR === "") return null;
  const base = env.CONFIG_TRACKER_CACHE_DIR ?? join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "config-tracker");
  return join(base, "torch-probe.json");
}

async function readCache(file: string | null, key: string): Promise<TorchInfo | null> {
  if (file === null) return null;
  try {
    const entries = JSON.parse(await readFile(file, "utf8")) as Record<string, CacheEntry>;
    const entry = entries[key];
    // Entries written before the probe reported Python's or HIP's version are asked again.
    if (!entry || !Array.isArray(entry.stamps) || entry.result?.python_version === undefined) return null;
    if (entry.result.torch_hip_version === undefined) return null;
    const current = await Promise.all(entry.stamps.map(([path]) => mtime(path)));
    return current.every((value, i) => value === entry.stamps[i]?.[1]) ? entry.result : null;
  } catch {
    return null;
  }
}

async function writeCache(file: string | null, key: string, entry: CacheEntry): Promise<void> {
  if (file === null) return;
  try {
    let entries: Record<string, CacheEntry> = {};
    try {
      entries = JSON.parse(await readFile(file, "utf8")) as Record<string, CacheEntry>;
    } catch {
      // a missing or broken cache starts over
    }
    entries[key] = entry;
    await mkdir(dirname(file), { recursive: true });
    const { writeFileAtomic } = await import("./io/atomic-write.js");
    await writeFileAtomic(file, JSON.stringify(entries));
  } catch {
    // the cache is an optimisation: a read-only home is fine
  }
}

export interface FindTorchOptions {
  timeoutMs?: number;
  /** The trainer's environment (PATH, PYTHON* variables); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The interpreter the trainer runs: a path, or a name looked up on env.PATH (default python3). */
  python?: string;
}

export async function findTorch(options: FindTorchOptions = {}): Promise<TorchInfo> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 3000;
  const wanted = options.python ?? "python3";
  let python = wanted.includes("/")
    ? ((await isExecutable(resolve(wanted))) ? resolve(wanted) : null)
    : await findOnPath(wanted, env.PATH ?? "");
  if (python === null) return NO_PYTHON;
  const shimsDir = join(env.PYENV_ROOT ?? join(homedir(), ".pyenv"), "shims");
  if (resolve(dirname(python)) === resolve(shimsDir)) python = await resolvePyenvShim(python, env);

  const interpreter = await realpath(python).catch(() => python as string);
  // The key is what the answer depends on, as it is (hashing it would load node:crypto).
  const key = JSON.stringify([python, interpreter, PYTHON_VARIABLES.map((name) => env[name] ?? null)]);
  const file = cacheFile(env);
  const cached = await readCache(file, key);
  if (cached) return cached;

  const answer = await runPython(python, timeoutMs, env);
  if (answer === null) return NO_PYTHON; // no answer in time: not cached, asked again next time
  const versionPath = answer.torch_dir === null ? null : join(answer.torch_dir, "version.py");
  const versionFile = versionPath === null ? null : await readFirstExisting([versionPath]);
  const result: TorchInfo = {
    ...(versionFile === null
      ? { torch_version: null, torch_cuda_version: null, torch_hip_version: null }
      : parseTorchVersionFile(versionFile)),
    python_version: typeof answer.python_version === "string" ? answer.python_version : null,
    python_executable: typeof answer.python_executable === "string" ? answer.python_executable : null,
  };

  const watched = [interpreter, ...answer.sys_path, ...(versionPath === null ? [] : [versionPath])];
  const stamps = await Promise.all(watched.map(async (path): Promise<[string, number | null]> => [path, await mtime(path)]));
  await writeCache(file, key, { stamps, result });
  return result;
}
