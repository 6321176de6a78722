/**
 * The keeper of a wrapped command's output: a small process of its own between the command and
 * `run`. It writes what the command prints to the output log itself, and passes it on to the
 * wrapper, which shows it and reads metrics from it. So a wrapper killed with SIGKILL costs the
 * command nothing: it never writes into a pipe nobody reads (which would end it at its next
 * print), and its output goes on into the log until it ends.
 *
 * Started by child.ts as `node output-keeper.js`, in a session of its own (no terminal signal
 * reaches it), with fd 0: the command's stdout; fd 3: the command's stderr; fd 4: the output log,
 * open for appending; fd 1 and 2: to the wrapper. It ends when the command and whatever it started
 * have closed their output. It loads nothing but two Node built-ins.
 */
import { writeSync } from "node:fs";
import { Socket } from "node:net";

const LOG = 4;
const pause = new Int32Array(new SharedArrayBuffer(4));
let logFailed = false;
let wrapperGone = false;

/** Writes all of `bytes` (blocking: a slow reader slows the command, nothing is dropped). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

function keep(source: Socket, wrapper: 1 | 2): void {
  source.on("data", (bytes: Buffer) => {
    if (!logFailed) {
      try {
        writeAll(LOG, bytes);
      } catch (error) {
        logFailed = true;
        if (!wrapperGone) {
          try {
            writeAll(2, Buffer.from(`config-tracker run: the output log could not be written (${(error as Error).message}): the command's output is no longer logged\n`));
          } catch {
            wrapperGone = true;
          }
        }
      }
    }
    if (wrapperGone) return;
    try {
      writeAll(wrapper, bytes);
    } catch {
      wrapperGone = true; // the wrapper was killed: the log alone goes on
    }
  });
  source.on("error", () => {}); // a reset connection ends the stream like its end
}

keep(new Socket({ fd: 0, readable: true, writable: false }), 1);
keep(new Socket({ fd: 3, readable: true, writable: false }), 2);
