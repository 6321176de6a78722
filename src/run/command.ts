/**
 * What the wrapped command is: the interpreter it runs (when it is Python), and config.json's
 * `command` record of how it was started.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { basename, delimiter, join, resolve } from "node:path";

import { DISTRIBUTED_VARIABLES, variablesNamed } from "../environment.js";
import { PYTHON_VARIABLES } from "../torch-probe.js";

/** Where `command` resolves on the child's PATH (null when it does not). */
function which(command: string, env: NodeJS.ProcessEnv): string | null {
  if (command.includes("/")) return resolve(command);
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      closeSync(openSync(candidate, "r"));
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * The Python interpreter the command runs, when it is Python: `python3 train.py` directly, or a
 * launcher script (torchrun, accelerate, deepspeed) through its #! line.
 */
export function interpreterOf(command: string[], env: NodeJS.ProcessEnv): string | undefined {
  const first = command[0];
  if (first === undefined) return undefined;
  const isPython = (name: string) => /^python(\d+(\.\d+)*)?$/.test(basename(name));
  const path = which(first, env);
  if (isPython(first)) return path ?? first;
  if (path === null) return undefined;
  let head = "";
  try {
    const fd = openSync(path, "r");
    try {
      const buffer = Buffer.alloc(256);
      const bytes = readSync(fd, buffer, 0, buffer.length, 0);
      head = buffer.toString("utf8", 0, bytes);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
  if (!shebang) return undefined;
  const [, interpreter, argument] = shebang;
  if (interpreter !== undefined && isPython(interpreter)) return interpreter;
  if (interpreter !== undefined && basename(interpreter) === "env" && argument !== undefined && isPython(argument)) {
    return which(argument, env) ?? argument;
  }
  return undefined;
}

/** config.json's `command`: how the command was started (not compared on resumption). */
export function commandRecord(
  command: string[],
  env: NodeJS.ProcessEnv,
  python: string | undefined,
  nodeCount: number | null,
): Record<string, unknown> {
  return {
    argv: command,
    cwd: process.cwd(),
    cuda_visible_devices: env.CUDA_VISIBLE_DEVICES ?? null,
    distributed: variablesNamed(env, DISTRIBUTED_VARIABLES),
    python_variables: variablesNamed(env, PYTHON_VARIABLES),
    python: python ?? null,
    node_count: nodeCount,
  };
}
