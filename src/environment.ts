import { hostname, userInfo } from "node:os";

import type { EnvironmentInfo } from "./schema.js";

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
] as const;

export function getEnvironmentInfo(env: NodeJS.ProcessEnv = process.env): EnvironmentInfo {
  const distributed: Record<string, string> = {};
  for (const name of DISTRIBUTED_VARIABLES) {
    const value = env[name];
    if (value !== undefined) distributed[name] = value;
  }
  return {
    node_version: process.version,
    argv: [...process.argv],
    cwd: process.cwd(),
    hostname: hostname(),
    user: currentUser(env),
    pid: process.pid,
    distributed,
  };
}

function currentUser(env: NodeJS.ProcessEnv): string | null {
  try {
    return userInfo().username;
  } catch {
    // Containers often run as a uid with no passwd entry: userInfo() throws there.
    return env.USER ?? env.LOGNAME ?? null;
  }
}
