// CLI start-up as whole processes against `node -e 0` (the Node floor) and, where
// there is one, `nvidia-smi --query-gpu` (what a user would run instead), interleaved round by
// round so the box's load hits every command alike; and the time to install the packed tarball:
// prebuilt binary against compiling from source.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function wallMs(command, args, options) {
  const started = process.hrtime.bigint();
  const child = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], ...options });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${child.stderr}`);
  return elapsed;
}

export function benchStartup({ root, rounds = 40 }) {
  const cli = join(root, "dist", "cli.js");
  const commands = {
    node_e_0: [process.execPath, ["-e", "0"]],
    version: [process.execPath, [cli, "--version"]],
    help: [process.execPath, [cli, "help"]],
    hardware_json: [process.execPath, [cli, "hardware", "--json"]],
  };
  if (spawnSync("nvidia-smi", ["-L"], { stdio: "ignore" }).status === 0) {
    commands.nvidia_smi = ["nvidia-smi", ["--query-gpu=name,uuid,memory.total,driver_version", "--format=csv,noheader"]];
  }
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (const [command, args] of Object.values(commands)) wallMs(command, args, { cwd: root }); // warm the page cache
  for (let round = 0; round < rounds; round++) {
    for (const [name, [command, args]] of Object.entries(commands)) times[name].push(wallMs(command, args, { cwd: root }));
  }
  const medians = Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)]));
  return {
    command: `median of ${rounds} interleaved rounds, whole processes, cwd = the repository`,
    median_ms: medians,
    ratio_over_node: Object.fromEntries(Object.entries(medians).map(([name, ms]) => [name, ms / medians.node_e_0])),
  };
}

/** npm install of the packed tarball in empty folders: the prebuilt binary, then from source. */
export function benchInstall({ root, prebuiltRuns = 3, sourceRuns = 1 }) {
  const work = mkdtempSync(join(tmpdir(), "ct-bench-install-"));
  try {
    const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: root, encoding: "utf8" })
      .trim()
      .split("\n")
      .pop();
    const install = (name, extra) => {
      const dir = join(work, name);
      spawnSync("mkdir", [dir]);
      writeFileSync(join(dir, "package.json"), '{ "name": "app", "version": "1.0.0", "private": true }\n');
      return wallMs("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", ...extra, join(work, tarball)], { cwd: dir });
    };
    install("warm", []); // fills npm's cache with the dependencies: the runs below time the install itself
    const prebuilt = Array.from({ length: prebuiltRuns }, (_, i) => install(`prebuilt-${i}`, []));
    const source = Array.from({ length: sourceRuns }, (_, i) => install(`source-${i}`, ["--build-from-source"]));
    return {
      command: "npm install --omit=dev <tarball> in an empty folder (dependencies in npm's cache); from source adds --build-from-source",
      prebuilt_median_ms: median(prebuilt),
      from_source_median_ms: median(source),
      ratio_source_over_prebuilt: median(source) / median(prebuilt),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
