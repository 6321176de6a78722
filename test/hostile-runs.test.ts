/**
 * A shared runs folder where anyone may plant files: every case runs the built CLI (or a script
 * importing the built library) as a user does, under a 512 MiB memory cap and a 20 s limit
 * (test/support/guarded.ts), and checks that nothing crashes, hangs, runs a command, writes
 * outside the folder, prints a terminal escape or loses what was logged.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { tempDir } from "./support/helpers.js";
import { guardedCli, guardedScript, wellBehaved } from "./support/guarded.js";

/** A run folder with a valid config.json (and whatever else `files` holds, written as given). */
function writeRun(dir: string, files: Record<string, string> = {}, config: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const name = dir.split("/").pop() as string;
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ experiment_id: name, timestamp: "2026-11-28T09:40:02.118Z", git_hash: null, config: { lr: 0.001, ...config }, hardware: {} }),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

const jsonl = (records: unknown[]) => records.map((record) => JSON.stringify(record)).join("\n") + "\n";

describe("memory from small inputs: charts and series capped", () => {
  it("compare --html of logs naming 16,000 metrics and 22,000 GPUs stays small, charts 200 + 256 series and says what it left out", async () => {
    const root = tempDir("ct-hostile-charts-");
    for (const name of ["a", "b"]) {
      const steps = [0, 1, 2].map((step) => {
        const record: Record<string, number> = { step, time: 1764322514 + step };
        for (let i = 0; i < 16_000; i++) record[`layer.${i}.grad_norm`] = i + step;
        return record;
      });
      const samples = Array.from({ length: 22 }, (_, line) => ({
        node: 0,
        time: 1764322514 + line,
        gpus: Array.from({ length: 1000 }, (_, i) => ({ index: line * 1000 + i, utilization_gpu_percent: 50, memory_used_bytes: 1 })),
      }));
      writeRun(join(root, name), { "metrics.jsonl": jsonl(steps), "system.jsonl": jsonl(samples) });
    }
    const html = join(tempDir("ct-hostile-html-"), "report.html");
    const result = await guardedCli(["compare", root, "--html", html]);
    expect(wellBehaved(result)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.peakMiB).toBeLessThan(512);
    expect(result.stderr).toContain("charts: 200 metrics charted (the comparison's, then the first met in the logs), 15800 more left out");
    expect(result.stderr).toContain("charts: 256 GPU series charted, GPUs past them left out");
    const page = (await import("node:fs")).readFileSync(html, "utf8");
    expect(page.match(/"id":"metric-\d+"/g)?.length).toBe(200);

    // The library: the same caps, the warnings through onWarning.
    const library = await guardedScript(
      `const runs = await ct.loadRunsFrom([${JSON.stringify(root)}]);
       const warnings = [];
       const page = await ct.renderReport(runs, { onWarning: (w) => warnings.push(w) });
       console.log(JSON.stringify({ charts: page.match(/"id":"metric-\\d+"/g).length, warnings }));`,
    );
    expect(wellBehaved(library)).toEqual([]);
    const answer = JSON.parse(library.stdout) as { charts: number; warnings: string[] };
    expect(answer.charts).toBe(200);
    expect(answer.warnings.some((warning) => warning.includes("15800 more left out"))).toBe(true);
    expect(library.peakMiB).toBeLessThan(512);
  }, 60_000);
});
