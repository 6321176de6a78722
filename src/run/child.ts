/**
 * The wrapped command as a child process: started with the caller's stdin, its stdout and stderr
 * teed to the terminal (or whatever streams the caller gives), to the output log and, line by
 * line, to the metrics parsers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { WriteStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";

import { LineSplitter } from "./output-metrics.js";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type StartedChild =
  | { child: ChildProcess; exited: Promise<ChildExit> }
  | { failure: { message: string; exitCode: 126 | 127 } };

/**
 * Starts `command`. `detached`: in a process group of its own (no terminal: every signal is
 * passed on by the wrapper); at a terminal the child stays in the foreground group, where Ctrl-C
 * and a hangup reach it directly.
 */
export async function startChild(command: string[], env: NodeJS.ProcessEnv, detached: boolean): Promise<StartedChild> {
  const name = command[0] as string;
  let child: ChildProcess;
  try {
    child = spawn(name, command.slice(1), { stdio: ["inherit", "pipe", "pipe"], env, detached });
  } catch (error) {
    return { failure: { message: `cannot start ${name}: ${(error as Error).message}`, exitCode: 127 } };
  }
  // Listened for before anything else is awaited: a command that ends at once (`true`) must not
  // end unheard.
  const exited = new Promise<ChildExit>((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
  const spawned = await new Promise<Error | null>((resolveSpawn) => {
    child.once("spawn", () => resolveSpawn(null));
    child.once("error", (error) => resolveSpawn(error));
  });
  if (spawned === null) return { child, exited };
  const missing = (spawned as NodeJS.ErrnoException).code === "ENOENT";
  return {
    failure: { message: missing ? `${name}: command not found` : `${name}: ${spawned.message}`, exitCode: missing ? 127 : 126 },
  };
}

export interface TeeTargets {
  /** Where the child's stdout and stderr are shown (null: nowhere but the log). */
  stdout: NodeJS.WritableStream | null;
  stderr: NodeJS.WritableStream | null;
  log: WriteStream;
  /** Each line of output (without its newline), for the metrics parsers. */
  onLine: (line: string) => void;
  /** Called before output is written (the progress line clears itself). */
  beforeWrite: () => void;
}

/**
 * Tees the child's output; resolves when both streams have ended. Backpressure: a slow terminal
 * or disk pauses the child's output, so nothing is dropped. A terminal that goes away (`| head`
 * closes the pipe) is written no more: output then only goes to the log and the parsers, and the
 * run goes on. `release()` removes what was added to the terminals.
 */
export function teeOutput(child: ChildProcess, targets: TeeTargets): { done: Promise<void>; release: () => void } {
  const broken = new Set<NodeJS.WritableStream>();
  const terminals = [targets.stdout, targets.stderr].filter((terminal): terminal is NodeJS.WritableStream => terminal !== null);
  const onError = new Map<NodeJS.WritableStream, () => void>();
  for (const terminal of new Set(terminals)) {
    const listener = () => broken.add(terminal);
    onError.set(terminal, listener);
    terminal.on("error", listener);
  }
  const { log } = targets;
  const tee = (source: NodeJS.ReadableStream, terminal: NodeJS.WritableStream | null) => {
    const splitter = new LineSplitter(targets.onLine);
    const decoder = new StringDecoder("utf8"); // for the parsers only: bytes are passed on as they are
    source.on("data", (bytes: Buffer) => {
      targets.beforeWrite();
      const terminalOk = terminal === null || broken.has(terminal) ? true : terminal.write(bytes);
      const logOk = log.write(bytes);
      splitter.push(decoder.write(bytes));
      if (!terminalOk || !logOk) {
        source.pause();
        let waiting = (terminalOk ? 0 : 1) + (logOk ? 0 : 1);
        const resume = () => {
          waiting -= 1;
          if (waiting === 0) source.resume();
        };
        if (!terminalOk && terminal !== null) {
          terminal.once("drain", resume);
          terminal.once("error", resume); // gone: do not wait for a drain that never comes
        }
        if (!logOk) log.once("drain", resume);
      }
    });
    return new Promise<void>((resolveEnd) =>
      source.once("end", () => {
        splitter.push(decoder.end());
        splitter.end();
        resolveEnd();
      }),
    );
  };
  const done = Promise.all([
    tee(child.stdout as NodeJS.ReadableStream, targets.stdout),
    tee(child.stderr as NodeJS.ReadableStream, targets.stderr),
  ]).then(() => {});
  return { done, release: () => onError.forEach((listener, terminal) => terminal.off("error", listener)) };
}

/**
 * Waits for the output to end after the child exited. A grandchild that outlives the command (a
 * daemon it started) may keep the output open: what is there is read, but not waited for forever.
 */
export async function drainOutput(child: ChildProcess, done: Promise<void>, timeoutMs = 5000): Promise<void> {
  const timeout = new Promise<"timeout">((resolveTimeout) => setTimeout(() => resolveTimeout("timeout"), timeoutMs).unref());
  if ((await Promise.race([done, timeout])) === "timeout") {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}
