/**
 * The wrapped command as a child process: started with the caller's stdin, its stdout and stderr
 * going to the output keeper (output-keeper.ts), which writes them to the output log and passes
 * them on; from the keeper, teed to the terminal (or whatever streams the caller gives) and, line
 * by line, to the metrics parsers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";

import { LineSplitter } from "./output-metrics.js";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The command's output as the keeper passes it on (everything it printed, in order per stream). */
export interface ChildOutput {
  stdout: Readable;
  stderr: Readable;
}

export type StartedChild =
  | { child: ChildProcess; exited: Promise<ChildExit>; output: ChildOutput }
  | { failure: { message: string; exitCode: 126 | 127 } };

const KEEPER = fileURLToPath(new URL("./output-keeper.js", import.meta.url));

/**
 * Starts `command`, its output going through a keeper that appends it to `logFd` (the output log,
 * open for appending; the keeper has its own copy, so the caller may close it once this returns).
 * `detached`: in a process group of its own (no terminal: every signal is passed on by the
 * wrapper); at a terminal the child stays in the foreground group, where Ctrl-C and a hangup
 * reach it directly.
 */
export async function startChild(command: string[], env: NodeJS.ProcessEnv, detached: boolean, logFd: number): Promise<StartedChild> {
  const name = command[0] as string;
  // The keeper first: the command writes into the keeper's own pipes, never into one of ours.
  // In a session of its own: Ctrl-C or a hangup at the terminal never ends it before the command.
  const keeper = spawn(process.execPath, [KEEPER], { stdio: ["pipe", "pipe", "pipe", "pipe", logFd], detached: true, env: {} });
  keeper.unref();
  const toKeeperOut = keeper.stdio[0] as Writable;
  const toKeeperErr = keeper.stdio[3] as Writable;
  const output = { stdout: keeper.stdout as Readable, stderr: keeper.stderr as Readable };
  let child: ChildProcess;
  try {
    child = spawn(name, command.slice(1), { stdio: ["inherit", toKeeperOut, toKeeperErr], env, detached });
  } catch (error) {
    return { failure: { message: `cannot start ${name}: ${(error as Error).message}`, exitCode: 127 } };
  } finally {
    // Only the command (and what it starts) holds the keeper's input now: the keeper ends with it.
    toKeeperOut.destroy();
    toKeeperErr.destroy();
  }
  // Listened for before anything else is awaited: a command that ends at once (`true`) must not
  // end unheard.
  const exited = new Promise<ChildExit>((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
  const spawned = await new Promise<Error | null>((resolveSpawn) => {
    child.once("spawn", () => resolveSpawn(null));
    child.once("error", (error) => resolveSpawn(error));
  });
  if (spawned === null) return { child, exited, output };
  output.stdout.destroy();
  output.stderr.destroy();
  const missing = (spawned as NodeJS.ErrnoException).code === "ENOENT";
  return {
    failure: { message: missing ? `${name}: command not found` : `${name}: ${spawned.message}`, exitCode: missing ? 127 : 126 },
  };
}

export interface TeeTargets {
  /** Where the child's stdout and stderr are shown (null: nowhere but the log). */
  stdout: NodeJS.WritableStream | null;
  stderr: NodeJS.WritableStream | null;
  /** Each line of output (without its newline), for the metrics parsers. */
  onLine: (line: string) => void;
  /** Called before output is written (the progress line clears itself). */
  beforeWrite: () => void;
}

/**
 * Tees the command's output (the log is the keeper's); resolves when both streams have ended. Backpressure: a slow terminal
 * or disk pauses the child's output, so nothing is dropped. A terminal that goes away (`| head`
 * closes the pipe) is written no more: output then only goes to the log and the parsers, and the
 * run goes on. `release()` removes what was added to the terminals.
 */
export function teeOutput(output: ChildOutput, targets: TeeTargets): { done: Promise<void>; release: () => void } {
  const broken = new Set<NodeJS.WritableStream>();
  const terminals = [targets.stdout, targets.stderr].filter((terminal): terminal is NodeJS.WritableStream => terminal !== null);
  const onError = new Map<NodeJS.WritableStream, () => void>();
  for (const terminal of new Set(terminals)) {
    const listener = () => broken.add(terminal);
    onError.set(terminal, listener);
    terminal.on("error", listener);
  }
  const tee = (source: NodeJS.ReadableStream, terminal: NodeJS.WritableStream | null) => {
    const splitter = new LineSplitter(targets.onLine);
    const decoder = new StringDecoder("utf8"); // for the parsers only: bytes are passed on as they are
    source.on("data", (bytes: Buffer) => {
      targets.beforeWrite();
      const terminalOk = terminal === null || broken.has(terminal) ? true : terminal.write(bytes);
      splitter.push(decoder.write(bytes));
      if (!terminalOk && terminal !== null) {
        source.pause();
        const resume = () => {
          terminal.off("drain", resume).off("error", resume);
          source.resume();
        };
        terminal.on("drain", resume);
        terminal.on("error", resume); // gone: do not wait for a drain that never comes
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
    tee(output.stdout, targets.stdout),
    tee(output.stderr, targets.stderr),
  ]).then(() => {});
  return { done, release: () => onError.forEach((listener, terminal) => terminal.off("error", listener)) };
}

/**
 * Waits for the output to end after the child exited. A grandchild that outlives the command (a
 * daemon it started) may keep the output open: what is there is read, but not waited for forever.
 */
export async function drainOutput(output: ChildOutput, done: Promise<void>, timeoutMs = 5000): Promise<void> {
  const timeout = new Promise<"timeout">((resolveTimeout) => setTimeout(() => resolveTimeout("timeout"), timeoutMs).unref());
  if ((await Promise.race([done, timeout])) === "timeout") {
    output.stdout.destroy();
    output.stderr.destroy();
  }
}
