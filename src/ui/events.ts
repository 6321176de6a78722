/**
 * Server-sent events to every open page (`GET /api/events`): what changed, never the data (a page
 * asks for what it shows). Events of one kind for one run are sent at most every `coalesceMs`; a
 * comment line every 25 s keeps idle connections open through proxies.
 *   event: table   data: {"version": 812}                       rows changed (GET /api/table?since=)
 *   event: run     data: {"name": "...", "parts": ["metrics"]}  a run's metrics, system, log or files
 */
import type { ServerResponse } from "node:http";

const KEEPALIVE_MS = 25_000;

export class EventHub {
  readonly #clients = new Set<ServerResponse>();
  #pendingTable: number | null = null;
  readonly #pendingRuns = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | null = null;
  readonly #keepalive: NodeJS.Timeout;

  constructor(readonly coalesceMs = 250) {
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) client.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  attach(response: ServerResponse, version: number): void {
    response.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    response.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ version })}\n\n`);
    this.#clients.add(response);
    response.on("close", () => this.#clients.delete(response));
  }

  table(version: number): void {
    this.#pendingTable = version;
    this.#schedule();
  }

  run(name: string, part: string): void {
    let parts = this.#pendingRuns.get(name);
    if (parts === undefined) this.#pendingRuns.set(name, (parts = new Set()));
    parts.add(part);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.#flush(), this.coalesceMs);
  }

  #flush(): void {
    this.#timer = null;
    const messages: string[] = [];
    if (this.#pendingTable !== null) messages.push(`event: table\ndata: ${JSON.stringify({ version: this.#pendingTable })}\n\n`);
    for (const [name, parts] of this.#pendingRuns) messages.push(`event: run\ndata: ${JSON.stringify({ name, parts: [...parts] })}\n\n`);
    this.#pendingTable = null;
    this.#pendingRuns.clear();
    if (messages.length === 0) return;
    const text = messages.join("");
    for (const client of this.#clients) client.write(text);
  }

  close(): void {
    clearInterval(this.#keepalive);
    if (this.#timer !== null) clearTimeout(this.#timer);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
