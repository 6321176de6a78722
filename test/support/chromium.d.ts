/** Types of chromium.js (plain JavaScript so that bench/ can use it too). */
export function findChromium(): { path: string | null; reason: string | null };

export interface ChromiumPage {
  /** Console errors, assertion failures and uncaught exceptions seen so far. */
  problems: string[];
  events: unknown[];
  open(url: string): Promise<number>;
  evaluate(expression: string): Promise<unknown>;
  screenshot(): Promise<Buffer>;
  openTab(url: string): Promise<string>;
  pid: number;
  close(): Promise<void>;
}

export function launchChromium(options: { path: string; width?: number; height?: number }): Promise<ChromiumPage>;

/** An expression for evaluate(): each chart's metric, canvas width, inked pixels and colours. */
export function chartInk(scope?: string): string;
