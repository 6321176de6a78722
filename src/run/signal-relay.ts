/**
 * Signals to the wrapper are passed on to the child; the wrapper ends when the child does. With
 * no terminal (a batch job) every signal is passed on; at a terminal, Ctrl-C and a hangup already
 * reach the whole foreground group, so only SIGTERM is. Asked three times, the child is killed.
 */
import type { ChildProcess } from "node:child_process";

const RELAYED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export class SignalRelay {
  /** The last signal the wrapper got (null: none): the run was interrupted. */
  received: NodeJS.Signals | null = null;
  #count = 0;
  readonly #listener = (signal: NodeJS.Signals) => this.#relay(signal);

  constructor(
    private readonly child: ChildProcess,
    private readonly atTerminal: boolean,
  ) {
    for (const signal of RELAYED) process.on(signal, this.#listener);
  }

  stop(): void {
    for (const signal of RELAYED) process.off(signal, this.#listener);
  }

  #relay(signal: NodeJS.Signals): void {
    this.received = signal;
    this.#count += 1;
    const fromTerminal = this.atTerminal && (signal === "SIGINT" || signal === "SIGHUP");
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.#count >= 3) this.child.kill("SIGKILL"); // asked three times: stop it now
    else if (!fromTerminal) this.child.kill(signal);
  }
}
