/**
 * The end of a tracked process, however it comes: a normal exit, an uncaught exception, SIGINT
 * or SIGTERM. Each live run gets to flush its metrics and write its final status synchronously
 * (nothing asynchronous runs any more at that point), and then the process ends as it would
 * have without us: an uncaught exception still prints and exits 1, a signal still kills the
 * process by that signal (so shells and launchers see 130 / 143), unless the program has its
 * own handler for it, which then decides.
 */
export interface ProcessEndHooks {
  /** Whether SIGINT / SIGTERM concern it (a supervisor that waits for its child says no). */
  handlesSignals(): boolean;
  /** The process is exiting with `code` (normally, or after an uncaught exception). */
  onExit(code: number): void;
  /** An exception nobody catches is about to end the process. */
  onFatal(error: unknown): void;
  /** SIGINT / SIGTERM arrived. */
  onSignal(signal: NodeJS.Signals): void;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
const live = new Set<ProcessEndHooks>();
let installed = false;

function each(action: (run: ProcessEndHooks) => void): void {
  for (const run of [...live]) {
    try {
      action(run);
    } catch {
      // A full disk must not turn a clean exit into a crash, nor stop the other runs' handlers.
    }
  }
}

const onExit = (code: number) => each((run) => run.onExit(code));

const onFatal = (error: unknown) => {
  // With an 'uncaughtException' listener the program survives: not our business then.
  if (process.listenerCount("uncaughtException") > 0) return;
  each((run) => run.onFatal(error));
};

const onSignal = (signal: NodeJS.Signals) => {
  const programHandlesIt = process.listenerCount(signal) > 1;
  each((run) => run.handlesSignals() && run.onSignal(signal));
  if (programHandlesIt) return; // the program has its own handler: it decides what happens
  uninstall();
  // No listener left: Node restores the default action, which the signal now takes.
  process.kill(process.pid, signal);
};

let signalsInstalled = false;

function install(): void {
  if (!installed) {
    installed = true;
    process.on("exit", onExit);
    process.on("uncaughtExceptionMonitor", onFatal);
  }
  // Signal listeners only while some run wants them: a listener changes what the signal does.
  const wanted = [...live].some((run) => run.handlesSignals());
  if (wanted && !signalsInstalled) for (const signal of SIGNALS) process.on(signal, onSignal);
  if (!wanted && signalsInstalled) for (const signal of SIGNALS) process.off(signal, onSignal);
  signalsInstalled = wanted;
}

function uninstall(): void {
  if (installed) {
    installed = false;
    process.off("exit", onExit);
    process.off("uncaughtExceptionMonitor", onFatal);
  }
  if (signalsInstalled) {
    signalsInstalled = false;
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

export function watchProcessEnd(run: ProcessEndHooks): void {
  live.add(run);
  install();
}

export function unwatchProcessEnd(run: ProcessEndHooks): void {
  live.delete(run);
  if (live.size === 0) uninstall();
  else install();
}
