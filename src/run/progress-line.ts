/**
 * One status line at the bottom of a terminal (step, latest metrics, GPU use, elapsed time),
 * redrawn in place; cleared before the child's output is written so it never mixes with it.
 * Nothing at all when the stream is not a terminal (piped, redirected, CI).
 */
export class ProgressLine {
  #shown = false;
  readonly #enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.#enabled = stream.isTTY === true && process.env.TERM !== "dumb";
  }

  draw(text: string): void {
    if (!this.#enabled) return;
    const width = this.stream.columns > 0 ? this.stream.columns - 1 : 100;
    this.stream.write(`\r\x1b[2K\x1b[2m${text.slice(0, width)}\x1b[22m`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    this.stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}
