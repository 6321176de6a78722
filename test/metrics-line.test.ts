/**
 * One codec owns the metrics line (src/experiment/metrics-line.ts): the same bytes fed to every
 * reader — the codec line by line, the streaming reader with and without the addon's fast path,
 * the addon's parser itself, and the latest values a run without results shows — must read the
 * same. The bytes: test/fixtures/metrics/edge-cases.jsonl, written by Python's json module
 * (make_edge_cases.py) with the lines other writers and crashes leave. And the writer's lines
 * read back, by the codec and by Python's json.loads, to the very floats written.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import { MetricsLineFormat, parseMetricsLine, recordsOfNativeLines, type MetricRecord } from "../src/experiment/metrics-line.js";
import { latestLogged, MetricsStream, useNativeMetricParser } from "../src/experiment/metrics-reader.js";
import { loadAddon } from "../src/native.js";
import { readLogColumns, useNativeColumns } from "../src/ui/log-columns.js";
import { Roots } from "../src/ui/safe-files.js";
import { tempDir } from "./support/helpers.js";

const edgeCases = join(import.meta.dirname, "fixtures", "metrics", "edge-cases.jsonl");

/** The file as the codec defines its lines: BOM dropped, split at "\n", the unterminated tail not a line. */
function codecLines(bytes: Buffer): string[] {
  let text = bytes.toString("utf8");
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  return text.split("\n").slice(0, -1);
}

const isBlank = (line: string) => line.trim() === "";

afterEach(() => {
  useNativeMetricParser(true);
  useNativeColumns(true);
});

describe("the metrics line: every reader reads the same bytes the same way", () => {
  const bytes = readFileSync(edgeCases);
  const lines = codecLines(bytes);
  const reference = lines.filter((line) => !isBlank(line)).map(parseMetricsLine);
  const records = reference.filter((record): record is MetricRecord => typeof record !== "string");

  it("the codec: Python's tokens, -0, exponents beyond a double, duplicate keys, values that are not numbers", () => {
    expect(records.map((record) => record.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7.5, 123456789012345680, 9, 10, 12, 13, 14, 16, 17, 18, 20]);
    const byStep = new Map(records.map((record) => [record.step, record]));
    expect(byStep.get(0)?.loss).toBeNaN();
    expect(byStep.get(1)).toMatchObject({ up: Infinity, down: -Infinity });
    expect(Object.is(byStep.get(2)?.neg_zero, -0)).toBe(true);
    expect(Object.is(byStep.get(2)?.zero, 0)).toBe(true);
    expect(byStep.get(3)).toMatchObject({ max: Number.MAX_VALUE, tiny: Number.MIN_VALUE, normal_min: 2.2250738585072014e-308 });
    expect(byStep.get(4)).toMatchObject({ third: 1 / 3, sum: 0.1 + 0.2, big_int: 9007199254740992 });
    expect(byStep.get(5)).toStrictEqual({ step: 5, time: 1714566901, loss: 1.25 }); // strings, booleans, null, objects, arrays left out
    expect(byStep.get(6)).toStrictEqual({ step: 6, time: 1714566902 });
    expect(Object.keys(byStep.get(9) as object)).toEqual(["step", "time", "ünïcode", 'quote"d', "__proto__"]);
    expect(byStep.get(10)?.loss).toBe(2); // the last of duplicate keys
    expect(byStep.get(12)?.v).toBe(1); // a duplicate step: the last
    expect(byStep.get(13)).toMatchObject({ over: Infinity, under: -0, exp: 100 });
    expect(Object.is(byStep.get(13)?.under, -0)).toBe(true);
    expect(byStep.get(14)?.crlf).toBe(3);
    expect(Object.is(byStep.get(16)?.compact, -0)).toBe(true);
    expect(byStep.get(17)?.spaced).toBeNaN();
    expect(byStep.get(20)).toStrictEqual({ step: 20, time: NaN, no_time: 9, neg: -0 }); // no time: NaN
    expect(reference.filter((record) => typeof record === "string")).toEqual([
      "no numeric step",
      "no numeric step",
      "not a JSON object",
      "not JSON",
      "torn (cut off mid-line)",
    ]);
  });

  it("the streaming reader, with the addon's fast path and without, gives the codec's records", async () => {
    for (const native of [true, false]) {
      useNativeMetricParser(native);
      const stream = new MetricsStream(edgeCases, { all: true });
      expect(await stream.toArray(), `native ${native}`).toStrictEqual(records);
      // The last line (no newline yet) is skipped too.
      expect(stream.stats.skipped.map((skip) => skip.reason), `native ${native}`).toEqual([
        ...reference.filter((record) => typeof record === "string"),
        "no newline at the end",
      ]);
      // Each step once, with its latest values: what the codec's records merge into.
      const merged = new Map<number, MetricRecord>();
      for (const record of records) merged.set(record.step, { ...merged.get(record.step), ...record });
      const byStep = (list: MetricRecord[]) => [...list].sort((a, b) => a.step - b.step);
      const latest = await new MetricsStream(edgeCases).toArray();
      expect(byStep(latest), `native ${native}`).toStrictEqual(byStep([...merged.values()]));
    }
  });

  it("the addon's parser reads each line it accepts as the codec does, and hands back the others", () => {
    const addon = loadAddon();
    let accepted = 0;
    for (const line of lines) {
      const native = addon.parseMetricLines(Buffer.from(line));
      if (native === null) continue;
      accepted += 1;
      const [record] = recordsOfNativeLines(native).records;
      if (isBlank(line)) expect(record, JSON.stringify(line)).toBeUndefined();
      else expect(record, line).toStrictEqual(parseMetricsLine(line));
    }
    // It does take the writer's shape of line, Python's tokens and -0 included: the comparison compares two readers.
    expect(accepted).toBeGreaterThanOrEqual(9);
    expect(addon.parseMetricLines(bytes.subarray(0, bytes.indexOf(0x0a)))).toBeNull(); // the BOM is the caller's to drop
  });

  it("the dashboard's chart columns, with the addon and without, hold the codec's finite values, the last of each step", () => {
    // What the codec's records make of a chart: per metric, each step once, its last finite value.
    const expected = new Map<string, Map<number, [number, number]>>();
    for (const record of records) {
      for (const [key, value] of Object.entries(record)) {
        if (key === "step" || key === "time" || !Number.isFinite(value)) continue;
        if (!expected.has(key)) expected.set(key, new Map());
        (expected.get(key) as Map<number, [number, number]>).set(record.step, [record.time, value]);
      }
    }
    const dir = join(edgeCases, "..");
    for (const native of [true, false]) {
      useNativeColumns(native);
      const { set } = readLogColumns(edgeCases, new Roots([dir]), "metrics", null);
      expect(set.names().sort(), `native ${native}`).toEqual([...expected.keys()].sort());
      for (const [key, points] of expected) {
        const column = set.column(key);
        const steps = [...points.keys()].sort((a, b) => a - b);
        expect(Array.from(column?.steps ?? []), key).toEqual(steps);
        expect(Array.from(column?.values ?? []), key).toStrictEqual(steps.map((step) => (points.get(step) as [number, number])[1]));
        expect(Array.from(column?.times ?? []), key).toStrictEqual(steps.map((step) => (points.get(step) as [number, number])[0]));
      }
      expect(set.skippedLines, `native ${native}`).toBe(reference.filter((record) => typeof record === "string").length);
    }
  });

  it("the dashboard's chart columns of the tracker's own lines (the addon's by-metric path) are those read line by line", () => {
    // Flat lines only, so the addon takes every chunk: a resumed run's re-logged steps, values
    // that are not finite, lines without a time, metrics that come and go, several chunks.
    const format = new MetricsLineFormat();
    let text = "";
    for (let step = 0; step < 60_000; step++) {
      const values: Record<string, number> = { loss: step % 997 === 0 ? NaN : 3 - step / 1e5, lr: step % 1301 === 0 ? -Infinity : 6e-4 };
      if (step % 10 === 0) values.val_loss = 2 - step / 1e5;
      if (step < 3000) values.diverged = NaN; // a metric never finite: no series, either way
      text += format.line(step, 1714566896 + step / 8, values);
      if (step % 5000 === 4999) text += `{"step": ${step - 200}, "loss": 9.5}\n\n`; // re-logged after a resume, no time
    }
    const file = join(tempDir("ct-columns-"), "metrics.jsonl");
    writeFileSync(file, text);
    const addon = loadAddon();
    expect(addon.metricColumns(Buffer.from(text.slice(0, 4096).slice(0, text.slice(0, 4096).lastIndexOf("\n"))))).not.toBeNull();
    const read = (native: boolean) => {
      useNativeColumns(native);
      return readLogColumns(file, new Roots([join(file, "..")]), "metrics", null).set;
    };
    const byLine = read(false);
    const byMetric = read(true);
    expect(byMetric.names().sort()).toEqual(["loss", "lr", "val_loss"]);
    expect(byMetric.names().sort()).toEqual(byLine.names().sort());
    for (const name of byLine.names()) {
      const [a, b] = [byLine.column(name), byMetric.column(name)];
      expect(b?.steps, name).toStrictEqual(a?.steps);
      expect(b?.times, name).toStrictEqual(a?.times);
      expect(b?.values, name).toStrictEqual(a?.values);
    }
    const loss = byMetric.column("loss");
    const relogged = Array.from(loss?.steps ?? []).indexOf(4799);
    expect(loss?.values[relogged]).toBe(9.5); // the re-logged value replaced the first
    expect(Number.isNaN(loss?.times[relogged])).toBe(true);
    expect(byMetric.column("loss")?.steps.length).toBe(60_000 - 61);
  });

  it("the latest values of a run's log are the codec's records merged, the line still being written left out", () => {
    // Keyed by metric names from the file: an object without a prototype, where `__proto__` and
    // `constructor` are names like any other.
    const latest = Object.create(null) as Record<string, number>;
    for (const record of records) {
      for (const [key, value] of Object.entries(record)) {
        if (key !== "time") Object.defineProperty(latest, key, { value, writable: true, enumerable: true, configurable: true });
      }
    }
    expect(latest).toHaveProperty("__proto__");
    expect(latestLogged(edgeCases).values).toStrictEqual(latest);
    expect(latestLogged(edgeCases).values).not.toHaveProperty("not_yet");
    // The time of the last record: how far a run without results.json got.
    expect(latestLogged(edgeCases).time).toBe(records.map((record) => record.time).filter(Number.isFinite).at(-1) ?? null);
  });
});

describe("the writer's lines", () => {
  const values = {
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    neg_zero: -0,
    zero: 0,
    max: Number.MAX_VALUE,
    tiny: Number.MIN_VALUE,
    sum: 0.1 + 0.2,
    big: 2 ** 60,
    "ünïcode \"quoted\"": 1.5,
  };

  it("read back by the codec to the very numbers written", () => {
    const line = new MetricsLineFormat().line(7, 1714566896.25, values);
    expect(typeof line).toBe("string");
    expect(parseMetricsLine((line as string).slice(0, -1))).toStrictEqual({ step: 7, time: 1714566896.25, ...values });
  });

  it("read by Python's json.loads to the same floats (NaN, Infinity, -0.0 as Python writes them)", () => {
    const format = new MetricsLineFormat();
    const text = [format.line(1, 1714566896.25, values), format.line(2, 1714566897.5, { loss: 2.5 })].join("");
    const path = join(tempDir(), "metrics.jsonl");
    writeFileSync(path, text);
    const python = spawnSync(
      "/usr/bin/python3",
      ["-c", "import json,sys\nfor line in open(sys.argv[1]):\n  r=json.loads(line)\n  print(json.dumps({k: float(v).hex() for k, v in r.items()}))", path],
      { encoding: "utf8" },
    );
    expect(python.status, python.stderr).toBe(0);
    const [first, second] = python.stdout.trim().split("\n").map((out) => JSON.parse(out) as Record<string, string>);
    const hex = (value: number) => {
      if (Number.isNaN(value)) return "nan";
      if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
      return null;
    };
    expect(first?.nan).toBe(hex(NaN));
    expect(first?.inf).toBe("inf");
    expect(first?.ninf).toBe("-inf");
    expect(first?.neg_zero).toBe("-0x0.0p+0");
    expect(first?.zero).toBe("0x0.0p+0");
    expect(first?.max).toBe("0x1.fffffffffffffp+1023");
    expect(first?.tiny).toBe("0x0.0000000000001p-1022");
    expect(first?.sum).toBe("0x1.3333333333334p-2");
    expect(first?.big).toBe("0x1.0000000000000p+60");
    expect(first?.['ünïcode "quoted"']).toBe("0x1.8000000000000p+0");
    expect(second).toEqual({ step: "0x1.0000000000000p+1", time: expect.any(String), loss: "0x1.4000000000000p+1" });
  });
});
