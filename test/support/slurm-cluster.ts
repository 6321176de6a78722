/**
 * A real single-host SLURM cluster for a test: munged, slurmctld and slurmd (Debian's packages)
 * started as root with everything (key, socket, ports, state, logs, pid files) in a temp folder,
 * so that it touches no system configuration and no other cluster on the host. Stopped by its
 * pid files. `start` answers a reason instead when the daemons cannot run here.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export interface SlurmCluster {
  /** Environment for sbatch / squeue / the sweep: SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  folder: string;
  stop(): Promise<void>;
}

const DAEMONS = ["munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scancel"];

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "(no log)";
  }
}

export async function startSlurmCluster(): Promise<SlurmCluster | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: "starting slurmctld, slurmd and munged needs root" };
  const missing = DAEMONS.filter((command) => !onPath(command));
  if (missing.length > 0) return { skip: `${missing.join(", ")} not installed (apt-get install slurmctld slurmd slurm-client munge)` };
  let mungeUid: number;
  let mungeGid: number;
  try {
    mungeUid = Number(execFileSync("id", ["-u", "munge"], { encoding: "utf8" }).trim());
    mungeGid = Number(execFileSync("id", ["-g", "munge"], { encoding: "utf8" }).trim());
  } catch {
    return { skip: "no munge user (apt-get install munge creates it)" };
  }

  const folder = mkdtempSync(join(tmpdir(), "ct-slurm-"));
  chmodSync(folder, 0o755);
  const munge = join(folder, "munge");
  mkdirSync(munge, { mode: 0o755 });
  chownSync(munge, mungeUid, mungeGid);
  const key = join(munge, "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  chownSync(key, mungeUid, mungeGid);
  const socket = join(munge, "munge.socket");
  const pidFiles = [join(folder, "slurmd.pid"), join(folder, "slurmctld.pid"), join(munge, "munged.pid")];
  for (const sub of ["state", "spool", "log"]) mkdirSync(join(folder, sub));

  const stop = async () => {
    for (const pidFile of pidFiles) {
      let pid: number;
      try {
        pid = Number(readFileSync(pidFile, "utf8").trim());
      } catch {
        continue;
      }
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue; // already gone
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(100);
      }
    }
    rmSync(folder, { recursive: true, force: true });
  };

  const started = spawnSync(
    "su",
    ["-s", "/bin/sh", "munge", "-c", `munged --socket=${socket} --key-file=${key} --log-file=${munge}/munged.log --pid-file=${munge}/munged.pid --seed-file=${munge}/munged.seed`],
    { encoding: "utf8" },
  );
  if (started.status !== 0) {
    await stop();
    return { skip: `munged did not start: ${(started.stderr || started.stdout).trim()}` };
  }

  const host = hostname();
  const [controllerPort, nodePort] = [await freePort(), await freePort()];
  const conf = join(folder, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=configtracker",
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${controllerPort}`,
      `SlurmdPort=${nodePort}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${folder}/state`,
      `SlurmdSpoolDir=${folder}/spool`,
      `SlurmctldPidFile=${folder}/slurmctld.pid`,
      `SlurmdPidFile=${folder}/slurmd.pid`,
      `SlurmctldLogFile=${folder}/log/slurmctld.log`,
      `SlurmdLogFile=${folder}/log/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "MpiDefault=none",
      "JobAcctGatherType=jobacct_gather/none",
      `NodeName=${host} CPUs=${Math.max(1, Number(execFileSync("nproc", { encoding: "utf8" }).trim()))} RealMemory=1000 State=UNKNOWN`,
      "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  for (const daemon of ["slurmctld", "slurmd"]) {
    const result = spawnSync(daemon, [], { env, encoding: "utf8" });
    if (result.status !== 0) {
      await stop();
      return { skip: `${daemon} did not start: ${(result.stderr || "").trim()} ${tail(join(folder, "log", `${daemon}.log`))}` };
    }
  }
  // Up once the node reports idle.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const state = spawnSync("sinfo", ["-h", "-o", "%T"], { env, encoding: "utf8" }).stdout?.trim();
    if (state === "idle") return { env: { SLURM_CONF: conf }, folder, stop };
    await sleep(300);
  }
  const logs = `${tail(join(folder, "log", "slurmctld.log"))} ${tail(join(folder, "log", "slurmd.log"))}`;
  await stop();
  return { skip: `the SLURM node did not become idle within 30 s: ${existsSync(conf) ? logs : ""}` };
}
