/**
 * inspectCheckpoint at its boundaries: AbortSignal, hostile inspections beside fs work on the
 * libuv pool, special files, permissions, and untrusted text kept inert in messages and in the
 * readable output. (The C++ side of each: native/test/inspect_boundaries_test.cpp.)
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { inspectCheckpoint } from "../src/checkpoint.js";
import { formatModelInfo } from "../src/cli/inspect.js";
import { loadAddon } from "../src/native.js";
import { rejection, runAsUnprivileged, runCli, tempDir } from "./support/helpers.js";

/** A safetensors file: u64 LE header length, the header, then `dataBytes` zero bytes. */
function safetensors(header: string | Buffer, dataBytes = 0): Buffer {
  const json = typeof header === "string" ? Buffer.from(header, "utf8") : header;
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, Buffer.alloc(dataBytes)]);
}

/** `count` zero-size tensors: a valid header of ~50 bytes a tensor. */
function manyTensors(count: number): Buffer {
  const entries = Array.from({ length: count }, (_, i) => `"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`);
  return safetensors(`{${entries.join(",")}}`);
}

const oneTensor = (name: string) => safetensors(`{${JSON.stringify(name)}:{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, 2);

describe("AbortSignal", () => {
  it("an aborted signal rejects with ABORTED before any work", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "m.safetensors"), oneTensor("w"));
    const controller = new AbortController();
    controller.abort(new Error("user gave up"));
    const error = await rejection(inspectCheckpoint(join(dir, "m.safetensors"), { signal: controller.signal }));
    expect(error.code).toBe("ABORTED");
    expect((error.cause as Error).message).toBe("user gave up");
  });

  it("aborting mid-way rejects at once; the result is not waited for", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "big.safetensors"), manyTensors(200_000));
    const controller = new AbortController();
    const pending = inspectCheckpoint(join(dir, "big.safetensors"), { signal: controller.signal });
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe("ABORTED");
    expect(error.path).toBe(join(dir, "big.safetensors"));
    // Not aborted, the same file is read in full.
    expect((await inspectCheckpoint(join(dir, "big.safetensors"))).num_tensors).toBe(200_000);
  });

  it("the cancel function reaches the reader on the pool thread (ABORTED from C++)", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "big.safetensors"), manyTensors(50_000));
    let cancel: (() => void) | undefined;
    const raw = loadAddon().inspectCheckpoint(join(dir, "big.safetensors"), (fn) => (cancel = fn));
    expect(typeof cancel).toBe("function");
    cancel?.();
    await expect(raw).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("a signal that is not an AbortSignal is INVALID_ARGUMENT", async () => {
    const error = await rejection(inspectCheckpoint("x", { signal: {} as AbortSignal }));
    expect(error.code).toBe("INVALID_ARGUMENT");
  });

  it("aborted inspections give their pool threads back: fs.readFile runs after 4 of them", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "big.safetensors"), manyTensors(200_000));
    writeFileSync(join(dir, "note.txt"), "still here");
    const controller = new AbortController();
    // Four inspections: as many as libuv's default pool has threads.
    const inspections = Array.from({ length: 4 }, () =>
      rejection(inspectCheckpoint(join(dir, "big.safetensors"), { signal: controller.signal })),
    );
    controller.abort();
    const errors = await Promise.all(inspections);
    expect(errors.map((e) => e.code)).toEqual(["ABORTED", "ABORTED", "ABORTED", "ABORTED"]);
    expect(await readFile(join(dir, "note.txt"), "utf8")).toBe("still here");
  });
});

describe("hostile files beside fs work on the pool", () => {
  it("4 hostile inspections end with their codes and fs.readFile is served meanwhile", async () => {
    const dir = tempDir();
    const deep = join(dir, "deep.safetensors");
    writeFileSync(deep, safetensors(`{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`));
    const notUtf8 = join(dir, "latin1.safetensors");
    writeFileSync(notUtf8, safetensors(Buffer.from('{"caf\xe9":{}}', "latin1"))); // Latin-1, not UTF-8
    const fifoShard = join(dir, "fifo");
    mkdirSync(fifoShard);
    writeFileSync(join(fifoShard, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "pipe.safetensors" } }));
    expect(spawnSync("mkfifo", [join(fifoShard, "pipe.safetensors")]).status).toBe(0);
    const escape = join(dir, "escape.index.json");
    writeFileSync(escape, JSON.stringify({ weight_map: { w: "../../etc/passwd" } }));
    writeFileSync(join(dir, "note.txt"), "served");

    const hostile = [deep, notUtf8, fifoShard, escape].map((path) => rejection(inspectCheckpoint(path)));
    const note = readFile(join(dir, "note.txt"), "utf8");
    const codes = (await Promise.all(hostile)).map((e) => e.code);
    expect(codes).toEqual(["CHECKPOINT_CORRUPT", "CHECKPOINT_CORRUPT", "UNSUPPORTED_FORMAT", "CHECKPOINT_CORRUPT"]);
    expect(await note).toBe("served");
  });

  it("special files are refused without blocking", async () => {
    const dir = tempDir();
    const fifo = join(dir, "model.bin");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    for (const path of [fifo, "/dev/zero", "/proc/self/status"]) {
      const error = await rejection(inspectCheckpoint(path));
      expect(error.code).toBe("UNSUPPORTED_FORMAT");
      expect(error.message).toMatch(/FIFO|character device|\/proc/);
    }
  });
});

it("a folder without read permission is PERMISSION_DENIED, not 'no weights found' (as an unprivileged user)", () => {
  const root = tempDir();
  chmodSync(root, 0o755);
  const locked = join(root, "model");
  mkdirSync(locked);
  writeFileSync(join(locked, "model.safetensors"), oneTensor("w"));
  chmodSync(locked, 0o000);
  const child = runAsUnprivileged(
    (index) => `import { inspectCheckpoint } from ${JSON.stringify(index)};
      try { await inspectCheckpoint(${JSON.stringify(locked)}); console.log("{}"); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`,
  );
  chmodSync(locked, 0o755);
  expect(child.stderr).toBe("");
  const outcome = JSON.parse(child.stdout.trim()) as { code: string; message: string };
  expect(outcome.code).toBe("PERMISSION_DENIED");
  expect(outcome.message).toContain(locked);
});

describe("untrusted text stays inert", () => {
  const evil = "evil\n  parameters      999\u001b[31m\u2028x";

  it("a path with control characters: the error message is one line, escaped", async () => {
    const dir = tempDir();
    const path = join(dir, `${evil}.safetensors`);
    writeFileSync(path, safetensors("{not json"));
    const error = await rejection(inspectCheckpoint(path));
    expect(error.code).toBe("CHECKPOINT_CORRUPT");
    expect(error.message).not.toMatch(/[\n\u001b\u2028]/);
    expect(error.message).toContain("evil\\n  parameters      999\\x1b[31m\\u2028x.safetensors: ");
    expect(error.path).toBe(path); // the path itself stays as it is, for programs
    const cli = runCli(["inspect", path]);
    expect(cli.status).toBe(1);
    expect(cli.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(cli.stderr).not.toContain("\u001b");
  });

  it("names from the file (path, architecture, tensor keys) cannot forge lines in the readable output", async () => {
    const dir = tempDir();
    const folder = join(dir, evil);
    mkdirSync(folder);
    writeFileSync(join(folder, "model.safetensors"), oneTensor("w"));
    writeFileSync(join(folder, "config.json"), JSON.stringify({ architectures: [evil] }));
    const info = await inspectCheckpoint(folder);
    expect(info.type).toBe(evil); // the data keeps the real name; only its rendering is escaped
    const text = formatModelInfo(info);
    expect(text.split("\n")).toHaveLength(formatModelInfo({ ...info, type: "x", source: "y" }).split("\n").length);
    expect(text).not.toMatch(/[\u001b\u2028]/);
    expect(text.match(/^ {2}parameters/gm)).toHaveLength(1);
    const cli = runCli(["inspect", folder]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).not.toContain("\u001b");
    expect(cli.stdout.match(/^ {2}parameters/gm)).toHaveLength(1);
    // --json is data, escaped by JSON itself.
    const json = runCli(["inspect", "--json", folder]);
    expect(JSON.parse(json.stdout).type).toBe(evil);
  });
});
