/**
 * What each CLI command loads at start-up (issue 10): `--version` and `help` nothing native and
 * none of the library; `hardware --json` no zod, and, once torch's answer is cached, neither
 * child_process nor crypto. Seen from inside the real process: an --import module records every
 * ES module URL resolved and, at exit, the Node built-ins loaded. (The times are in npm run bench.)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { cliPath, tempDir, testCacheDir } from "./support/helpers.js";

function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  const urls = join(dir, "urls.txt");
  const builtins = join(dir, "builtins.txt");
  const hook = `import { appendFileSync } from "node:fs";
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(${JSON.stringify(urls)}, result.url + "\\n");
      return result;
    }`;
  const recorder = `import { register } from "node:module"; import { writeFileSync } from "node:fs";
    register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
    process.on("exit", () => writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.join("\\n")));`;
  const result = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(recorder)}`, cliPath, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CONFIG_TRACKER_CACHE_DIR: testCacheDir, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  const read = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean);
  const ours = read(urls)
    .filter((url) => url.includes("/dist/") || url.includes("/node_modules/"))
    .map((url) => url.replace(/^.*\/(dist|node_modules)\//, "$1/"));
  return { status: result.status, stderr: result.stderr, modules: [...new Set(ours)], builtins: read(builtins) };
}

describe("CLI start-up loads only what the command needs", () => {
  it.each([["--version"], ["help"], ["ls", "--help"]])("%s: the grammar's small modules, no addon (a broken one is never touched)", (...command) => {
    const run = startCli(command, { CONFIG_TRACKER_ADDON: "/nonexistent/config_tracker.node" });
    expect(run.status).toBe(0);
    expect(run.modules.sort()).toEqual([
      "dist/cli.js",
      "dist/cli/args.js",
      "dist/cli/grammar.js",
      "dist/cli/help.js",
      "dist/errors.js",
      "dist/options.js",
    ]);
  });

  it("hardware --json: no zod; with torch's answer cached, no child_process and no crypto", () => {
    expect(startCli(["hardware", "--json"]).status).toBe(0); // the first run may ask Python and cache it
    const run = startCli(["hardware", "--json"]);
    expect(run.status).toBe(0);
    expect(run.modules).toContain("dist/native.js");
    expect(run.modules.filter((name) => name.includes("zod") || name.includes("schema"))).toEqual([]);
    expect(run.builtins).not.toContain("NativeModule child_process");
    expect(run.builtins).not.toContain("NativeModule crypto");
    expect(run.builtins).toContain("NativeModule os"); // the recorder does see what loads
  });
});
