/**
 * The addon that cannot load: each case is the real built addon spoiled the way it happens to
 * users (the other architecture's binary, a glibc too old for it, a download cut short), loaded
 * through CONFIG_TRACKER_ADDON by the CLI. The process must not crash, and the message must name
 * the file, the cause and the fixes.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { elfProblem } from "../src/elf-check.js";
import { repoRoot, runCli, tempDir } from "./support/helpers.js";

// The binary this checkout loads: build/Release from npm ci, else the prebuilt one.
const built = (createRequire(import.meta.url)("node-gyp-build") as { path(dir: string): string }).path(repoRoot);
const arm64Prebuilt = join(repoRoot, "prebuilds", "linux-arm64", "config-tracker.glibc.node");
const onLinuxX64 = process.platform === "linux" && process.arch === "x64";

function expectLoadFailure(file: string, cause: RegExp): void {
  const result = runCli(["hardware", "--json"], { CONFIG_TRACKER_ADDON: file });
  expect(result.status).toBe(1); // an exit code, not a signal: the process did not crash
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain("the native addon could not be loaded");
  expect(result.stderr).toContain(`tried ${file} (`);
  expect(result.stderr).toMatch(cause);
  expect(result.stderr).toContain("npm rebuild config-tracker --build-from-source");
  expect(result.stderr).toContain("CONFIG_TRACKER_ADDON");
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe.skipIf(!onLinuxX64)("an addon that cannot load (linux-x64)", () => {
  it("the arm64 binary: built for another platform", () => {
    // The real cross-built binary when scripts/prebuild.sh has run; else this build marked arm64.
    let file = arm64Prebuilt;
    if (!existsSync(file)) {
      const bytes = readFileSync(built);
      bytes.writeUInt16LE(183, 18); // e_machine = EM_AARCH64
      file = join(tempDir(), "arm64.node");
      writeFileSync(file, bytes);
    }
    expectLoadFailure(file, /built for arm64, this process is linux-x64/);
  });

  it("a binary that needs a newer glibc: names the version it lacks", () => {
    const bytes = readFileSync(built);
    const at = bytes.indexOf("GLIBC_2.14"); // memcpy's version: every x86-64 build needs it
    expect(at).toBeGreaterThan(0);
    bytes.write("GLIBC_2.99", at);
    const file = join(tempDir(), "new-glibc.node");
    writeFileSync(file, bytes);
    expectLoadFailure(file, /version `GLIBC_2\.99' not found.*it needs GLIBC_2\.99, newer than this system's glibc 2\.\d+/);
  });

  it("a download cut short: refused before dlopen, which would die of SIGBUS", () => {
    const file = join(tempDir(), "partial.node");
    writeFileSync(file, readFileSync(built).subarray(0, 8192));
    expectLoadFailure(file, /cut short: 8192 bytes where its segments need \d+/);
  });

  it("not a binary at all", () => {
    const file = join(tempDir(), "text.node");
    writeFileSync(file, "not an ELF file");
    expectLoadFailure(file, /not an ELF binary/);
  });

  it("a good copy elsewhere loads", () => {
    const file = join(tempDir(), "copy.node");
    copyFileSync(built, file);
    const result = runCli(["hardware", "--json"], { CONFIG_TRACKER_ADDON: file });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty("gpu_available");
  });
});

describe("the ELF check on other platforms' binaries", () => {
  // A minimal ELF header: class (1 = 32-bit, 2 = 64-bit), byte order (1 = little, 2 = big), e_machine.
  function header(elfClass: number, byteOrder: number, machine: number): string {
    const bytes = Buffer.alloc(64);
    bytes.writeUInt32BE(0x7f454c46, 0);
    bytes[4] = elfClass;
    bytes[5] = byteOrder;
    if (byteOrder === 1) bytes.writeUInt16LE(machine, 18);
    else bytes.writeUInt16BE(machine, 18);
    const file = join(tempDir(), "addon.node");
    writeFileSync(file, bytes);
    return file;
  }

  it("leaves a 32-bit or big-endian build for its own CPU to dlopen, and names the CPU of a foreign one", () => {
    expect(elfProblem(header(1, 1, 40), "arm")).toBeNull(); // EM_ARM, 32-bit little-endian
    expect(elfProblem(header(1, 1, 3), "ia32")).toBeNull(); // EM_386
    expect(elfProblem(header(2, 2, 22), "s390x")).toBeNull(); // EM_S390, 64-bit big-endian
    expect(elfProblem(header(1, 1, 40), "x64")).toMatch(/built for arm, this process is/);
    expect(elfProblem(header(2, 2, 22), "arm64")).toMatch(/built for s390x/);
  });
});
