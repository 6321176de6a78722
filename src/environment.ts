import { hostname, userInfo } from "node:os";

import type { EnvironmentInfo } from "./schema.js";
import { PYTHON_VARIABLES } from "./torch-probe.js";

/** Variables torchrun, torch.distributed and Slurm set for each rank of a distributed run. */
export const DISTRIBUTED_VARIABLES = [
  "RANK",
  "LOCAL_RANK",
  "WORLD_SIZE",
  "LOCAL_WORLD_SIZE",
  "MASTER_ADDR",
  "MASTER_PORT",
  "TORCHELASTIC_RUN_ID",
  "SLURM_JOB_ID",
  "SLURM_JOB_NODELIST",
  "SLURM_PROCID",
  "SLURM_NTASKS",
  "SLURM_NODEID",
  "SLURM_LOCALID",
  "GROUP_RANK",
  "NODE_RANK",
] as const;

export function getEnvironmentInfo(env: NodeJS.ProcessEnv = process.env): EnvironmentInfo {
  const distributed = variablesNamed(env, DISTRIBUTED_VARIABLES);
  const python = variablesNamed(env, PYTHON_VARIABLES);
  return {
    node_version: process.version,
    argv: [...process.argv],
    cwd: process.cwd(),
    hostname: hostname(),
    user: currentUser(env),
    pid: process.pid,
    distributed,
    ...(Object.keys(python).length === 0 ? {} : { python_variables: python }),
  };
}

/** The variables of `env` among `names`, as config.json records them. */
export function variablesNamed(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function currentUser(env: NodeJS.ProcessEnv): string | null {
  try {
    return userInfo().username;
  } catch {
    // Containers often run as a uid with no passwd entry: userInfo() throws there.
    return env.USER ?? env.LOGNAME ?? null;
  }
}
