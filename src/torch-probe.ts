/**
 * Which torch the `python3` on PATH would import, read from torch's installed version.py rather
 * than by importing torch (which takes seconds and may initialise CUDA). Bounded in time; null
 * when there is no python3, no torch, or no answer in time.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { homedir } from "node:os";

export interface TorchInfo {
  torch_version: string | null;
  /** The CUDA toolkit torch was built with ("12.4"), null for CPU-only builds. */
  torch_cuda_version: string | null;
}

const NO_TORCH: TorchInfo = { torch_version: null, torch_cuda_version: null };

// find_spec locates the package without executing it.
const FIND_TORCH = [
  "import importlib.util as u",
  "s = u.find_spec('torch')",
  "print((s.submodule_search_locations or [''])[0] if s else '')",
].join("\n");

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

function runPython(python: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolvePromise) => {
    execFile(
      python,
      ["-c", FIND_TORCH],
      { timeout: timeoutMs, killSignal: "SIGKILL", env: { ...env, PYTHONDONTWRITEBYTECODE: "1" }, maxBuffer: 1024 * 1024 },
      (error, stdout) => resolvePromise(error ? null : String(stdout).trim()),
    );
  });
}

/** Reads `__version__` and `cuda` from torch/version.py (both quoted literals, or None). */
export function parseTorchVersionFile(text: string): TorchInfo {
  const field = (name: string): string | null => {
    const match = new RegExp(`^${name}\\s*(?::[^=\\n]*)?=\\s*(?:'([^']*)'|"([^"]*)"|None)`, "m").exec(text);
    return match ? (match[1] ?? match[2] ?? null) : null;
  };
  return { torch_version: field("__version__"), torch_cuda_version: field("cuda") };
}

export async function findTorch(options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<TorchInfo> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 3000;
  let python = await findOnPath("python3", env.PATH ?? "");
  if (python === null) return NO_TORCH;
  const shimsDir = join(env.PYENV_ROOT ?? join(homedir(), ".pyenv"), "shims");
  if (resolve(dirname(python)) === resolve(shimsDir)) python = await resolvePyenvShim(python, env);

  const packageDir = await runPython(python, timeoutMs, env);
  if (!packageDir) return NO_TORCH;
  const versionFile = await readFirstExisting([join(packageDir, "version.py")]);
  return versionFile === null ? NO_TORCH : parseTorchVersionFile(versionFile);
}
