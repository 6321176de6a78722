/**
 * `config-tracker ui` started as a user starts it (the built CLI in a child process) for the
 * dashboard's tests, and the runs they look at: written by this package's tracker.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";

import { cliPath, repoRoot, runScript, testCacheDir } from "./helpers.js";

export interface RunningUi {
  url: string;
  origin: string;
  port: number;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Sends SIGINT and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startUi(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningUi> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, "ui", "--port", "0", ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CONFIG_TRACKER_CACHE_DIR: testCacheDir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let settled = false;
    const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const first = stdout.split("\n")[0];
      if (!settled && stdout.includes("\n") && first) {
        settled = true;
        const url = new URL(first);
        resolve({
          url: first,
          origin: url.origin,
          port: Number(url.port),
          child,
          stdout: () => stdout,
          stderr: () => stderr,
          stop: (signal = "SIGINT") => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on("close", (code) => {
      if (!settled) reject(new Error(`config-tracker ui exited ${code} before printing its URL:\n${stderr}`));
    });
  });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

/** An HTTP request with full control of the headers (Host, Origin, Cookie) and the raw path. */
export function ask(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: { Host: `127.0.0.1:${port}`, ...options.headers } },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`${path}: no answer in 20 s`)));
    req.end(options.body);
  });
}

/**
 * A sweep of three learning rates (finished, with checkpoints), a resumed run, a failed one, each
 * written by this package's tracker, under `root`.
 */
export async function writeRuns(root: string): Promise<void> {
  const written = await runScript(`
    import { mkdirSync, writeFileSync } from "node:fs";
    const root = ${JSON.stringify(root)};
    for (const lr of [0.001, 0.0003, 0.0001]) {
      const dir = root + "/sweep/lr_" + lr;
      const tracker = new ct.ConfigTracker(dir);
      await tracker.saveConfig({ lr, batch_size: 12, optimizer: { name: "adamw", betas: [0.9, 0.95] } }, { dataset: { name: "shakespeare_char" } });
      for (let step = 0; step <= 2000; step++) {
        tracker.logMetrics(step, { train_loss: 4 * Math.exp(-step * lr * 2) + 1 + 0.05 * Math.sin(step), lr });
        if (step % 200 === 0) tracker.logMetrics(step, { val_loss: 4 * Math.exp(-step * lr * 2) + 1.3 });
      }
      mkdirSync(dir + "/ckpt", { recursive: true });
      for (const step of [1000, 2000]) {
        writeFileSync(dir + "/ckpt/" + step + ".bin", "not a checkpoint");
        await tracker.recordCheckpoint(dir + "/ckpt/" + step + ".bin", { step });
      }
      await tracker.saveResults();
    }
    {
      const tracker = new ct.ConfigTracker(root + "/failed_run");
      await tracker.saveConfig({ lr: 0.01, batch_size: 64 });
      for (let step = 0; step < 50; step++) tracker.logMetrics(step, { train_loss: 3 + step });
      await tracker.fail(new Error("loss diverged"));
    }
  `);
  if (written.code !== 0) throw new Error(written.stderr);
}
