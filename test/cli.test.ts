import { describe, expect, it } from "vitest";

import { runCli } from "./support/helpers.js";

describe("config-tracker CLI", () => {
  it("prints usage and exits 2 with no command", () => {
    const result = runCli([]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain("Usage: config-tracker <command>");
  });

  it("--help exits 0", () => {
    expect(runCli(["--help"]).status).toBe(0);
  });

  it("--version prints the package version", async () => {
    const { readFileSync } = await import("node:fs");
    const version = JSON.parse(readFileSync("package.json", "utf8")).version;
    expect(runCli(["--version"]).stdout.trim()).toBe(version);
  });

  it("an unknown command or option is a usage error on stderr", () => {
    const unknown = runCli(["frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe('config-tracker: unknown command "frobnicate"');
    const badOption = runCli(["hardware", "--jsn"]);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr.split("\n")[0]).toBe("config-tracker hardware: unknown option --jsn (did you mean --json?)");
  });

  it("CONFIG_TRACKER_ADDON loads the addon from another path", async () => {
    const { copyFileSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { repoRoot, tempDir } = await import("./support/helpers.js");
    const copy = join(tempDir(), "elsewhere.node");
    copyFileSync(join(repoRoot, "build", "Release", "config_tracker.node"), copy);
    const result = runCli(["hardware", "--json"], { CONFIG_TRACKER_ADDON: copy });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty("gpu_available");
    // Not an addon at all: the loader's own reason is in the message.
    const bogus = join(tempDir(), "bogus.node");
    writeFileSync(bogus, "not an ELF file");
    const broken = runCli(["hardware"], { CONFIG_TRACKER_ADDON: bogus });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain(`tried ${bogus} (`);
    expect(broken.stderr).toContain("not an ELF binary");
  });

  it("a broken CONFIG_TRACKER_ADDON is a clear error listing fixes, exit 1", () => {
    const result = runCli(["hardware"], { CONFIG_TRACKER_ADDON: "/nonexistent/config_tracker.node" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("the native addon could not be loaded");
    expect(result.stderr).toContain("tried /nonexistent/config_tracker.node (not found)");
    expect(result.stderr).toContain("npm rebuild config-tracker");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for a known error
  });
});
