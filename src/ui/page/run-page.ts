/**
 * One run on one page (what `show` prints, from /api/run): status and heartbeat, notes and tags
 * (editable), the config as a tree, hardware, model, dataset, results, checkpoints (the best one
 * marked), resumptions, ranks and nodes, the GPU summary, warnings, its charts, and the end of its
 * output.log, growing as the run writes it.
 */
import { ApiError, get, put } from "./api.js";
import { asText, fill, h, type Child } from "./dom.js";
import { formatCount, formatDuration, formatNumber, formatStart } from "./shared.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Details = Record<string, Json> & {
  name: string;
  id: string;
  dir: string;
  status: string;
  started_at: string;
  duration_seconds: number | null;
  config: Record<string, Json>;
  results: Record<string, Json> | null;
  state: Record<string, Json> | null;
  checkpoints: Array<Record<string, Json>>;
  ranks: Array<Record<string, Json>>;
  nodes: Array<Record<string, Json>>;
  system: Record<string, Json> | null;
  final_metrics: Record<string, number | string>;
  warnings: string[];
};

interface Notes {
  note: string;
  tags: string[];
  updated_at?: string;
  updated_by?: string;
}

type LogChunk = import("../log-tail.js").LogChunk & { missing?: boolean };

const show = (value: Json | undefined): string => (typeof value === "number" ? formatNumber(value) : asText(value));

/** A JSON value as a tree of nested lists (objects and arrays fold open). */
export function tree(value: Json, depth = 0): Child {
  if (value === null || typeof value !== "object") return h("span", { class: `value ${typeof value}` }, show(value));
  const entries: Array<[string, Json]> = Array.isArray(value) ? value.map((item, index) => [`[${index}]`, item]) : Object.entries(value);
  if (entries.length === 0) return h("span", { class: "value" }, Array.isArray(value) ? "[]" : "{}");
  return h(
    "ul",
    { class: "tree" },
    entries.map(([key, item]) =>
      item !== null && typeof item === "object" && Object.keys(item).length > 0
        ? h("li", null, h("details", { open: depth < 1 }, h("summary", null, h("span", { class: "key" }, key)), tree(item, depth + 1)))
        : h("li", null, h("span", { class: "key" }, key), " ", tree(item, depth + 1)),
    ),
  );
}

function table(head: string[], rows: Child[][], className = ""): HTMLElement {
  return h("table", { class: `kv ${className}` }, h("thead", null, h("tr", null, head.map((cell) => h("th", null, cell)))), h("tbody", null, rows.map((row) => h("tr", null, row.map((cell) => h("td", null, cell))))));
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "run-section", data: { section: title } }, h("h3", null, title), children);
}

export class RunPage {
  readonly element: HTMLElement;
  #name = "";
  #details: Details | null = null;
  #notes: Notes = { note: "", tags: [] };
  #logBox: HTMLElement | null = null;
  #logEnd = 0;
  #logFile = "output.log";
  #follow = true;

  constructor(
    readonly back: () => void,
    readonly diffWith: (name: string) => void,
    readonly charts: HTMLElement,
    readonly runNames: () => string[],
  ) {
    this.element = h("div", { class: "run-page" });
  }

  get name(): string {
    return this.#name;
  }

  async open(name: string): Promise<void> {
    this.#name = name;
    this.#logEnd = 0;
    fill(this.element, h("p", { class: "note" }, "loading…"));
    try {
      [this.#details, this.#notes] = await Promise.all([get<Details>("/api/run", { name, nonfinite: "string" }), get<Notes>("/api/notes", { name })]);
    } catch (error) {
      fill(this.element, h("button", { class: "back", onclick: () => this.back() }, "← runs"), h("p", { class: "warn" }, (error as Error).message));
      return;
    }
    if (this.#name !== name) return;
    this.#render();
    await this.loadLog();
  }

  /** Reads the run again (its files changed). */
  async reload(): Promise<void> {
    if (!this.#name) return;
    try {
      const [details, notes] = await Promise.all([get<Details>("/api/run", { name: this.#name, nonfinite: "string" }), get<Notes>("/api/notes", { name: this.#name })]);
      this.#details = details;
      this.#notes = notes;
      const log = this.#logBox;
      const scroll = log?.scrollTop ?? 0;
      this.#render(log);
      if (log) log.scrollTop = scroll;
    } catch {
      // gone or unreadable now: the table says so
    }
  }

  #render(log: HTMLElement | null = null): void {
    const d = this.#details as Details;
    const state = d.state;
    const status: Child[] = [h("span", { class: `status ${d.status}` }, d.status)];
    if (state) {
      if (state.lost_reason) status.push(` (${asText(state.lost_reason)})`);
      if (typeof state.exit_code === "number") status.push(` exit ${state.exit_code}`);
      if (state.signal) status.push(` by ${asText(state.signal)}`);
      if (state.error) status.push(`: ${asText(state.error)}`);
      if (typeof state.last_step === "number") status.push(`, at step ${formatNumber(state.last_step)}`);
      if (typeof state.heartbeat_age_seconds === "number") status.push(h("span", { class: "note" }, `, heartbeat ${formatDuration(state.heartbeat_age_seconds)} ago`));
    }
    const config = d.config;
    const git = config.git as Record<string, Json> | undefined;
    const command = (config.command as { argv?: Json[] } | undefined)?.argv;
    const facts = table(
      ["", ""],
      [
        ["status", status],
        ["experiment", d.id],
        ["folder", d.dir],
        ["started", `${formatStart(d.started_at)} (${d.started_at})${state?.ended_at ? `, ended ${asText(state.ended_at)}` : ""}`],
        ["duration", formatDuration(d.duration_seconds)],
        ["git", git ? `${asText(git.short_hash ?? git.commit)}${git.dirty ? " (uncommitted changes)" : ""}${git.branch ? ` on ${asText(git.branch)}` : ""}${git.remote_url ? `, ${asText(git.remote_url)}` : ""}` : asText(config.git_hash)],
        ["host", asText((config.environment as Record<string, Json> | undefined)?.hostname ?? state?.host ?? null)],
        ...(Array.isArray(command) ? [["command", command.map(asText).join(" ")] as Child[]] : []),
      ],
      "facts",
    );
    const results = d.results;
    const summary = (results?.summary ?? {}) as Record<string, Record<string, Json>>;
    const metrics = Object.entries(d.final_metrics);
    const best = results?.best_checkpoint ?? null;
    const checkpoints = d.checkpoints;
    fill(
      this.element,
      h(
        "div",
        { class: "run-head" },
        h("button", { class: "back", onclick: () => this.back() }, "← runs"),
        h("h2", null, d.name),
        this.#diffPicker(d.name),
      ),
      facts,
      this.#notesEditor(d.name),
      d.warnings.length ? section("warnings", h("ul", { class: "warn" }, d.warnings.map((warning) => h("li", null, warning)))) : "",
      section(
        "results",
        metrics.length === 0
          ? h("p", { class: "note" }, "no metrics yet")
          : table(
              ["metric", d.final_metrics_from === "results" ? "final" : "latest", "min", "max", "count", "last step"],
              metrics.map(([name, value]) => {
                const s = summary[name];
                return [name, show(value as Json), show(s?.min), show(s?.max), show(s?.count), show(s?.last_step)];
              }),
              "metrics",
            ),
      ),
      section("config", tree(config.config as Json)),
      section("hardware", tree(config.hardware as Json)),
      section("model", config.model === undefined ? h("p", { class: "note" }, "not recorded") : tree(config.model as Json)),
      section("dataset", config.dataset === undefined ? h("p", { class: "note" }, "not recorded") : tree(config.dataset as Json)),
      section(
        "checkpoints",
        checkpoints.length === 0
          ? h("p", { class: "note" }, "none recorded")
          : table(
              ["step", "path", "size", "parameters", "metrics", ""],
              checkpoints.map((checkpoint) => [
                show(checkpoint.step),
                asText(checkpoint.path),
                typeof checkpoint.size_bytes === "number" ? formatCount(checkpoint.size_bytes) + "B" : "-",
                typeof checkpoint.num_parameters === "number" ? formatCount(checkpoint.num_parameters) : asText((checkpoint.error as Record<string, Json> | undefined)?.message ?? null),
                checkpoint.metrics ? Object.entries(checkpoint.metrics as Record<string, Json>).map(([key, value]) => `${key} ${show(value)}`).join(", ") : "",
                checkpoint.path === best ? h("strong", { class: "best" }, "★ best") : "",
              ]),
              "checkpoints",
            ),
      ),
      section(
        "resumes",
        Array.isArray(config.resumes) && config.resumes.length
          ? table(
              ["when", "host", "from step", "from checkpoint", "changed"],
              (config.resumes as Array<Record<string, Json>>).map((resume) => [
                asText(resume.timestamp),
                asText(resume.host ?? null),
                show(resume.from_step ?? null),
                asText(resume.from_checkpoint ?? null),
                Array.isArray(resume.changes) ? resume.changes.map((change) => asText((change as Record<string, Json>).key)).join(", ") : "",
              ]),
            )
          : h("p", { class: "note" }, "none"),
      ),
      d.ranks.length || d.nodes.length
        ? section(
            "ranks and nodes",
            d.ranks.length ? table(["rank", "host", "pid", "status", "CUDA_VISIBLE_DEVICES"], d.ranks.map((rank) => [show(rank.rank), asText(rank.host), show(rank.pid), asText(rank.status), asText(rank.cuda_visible_devices ?? "(unset)")])) : "",
            d.nodes.length ? table(["node", "host", "status", "GPUs"], d.nodes.map((node) => [show(node.node_rank), asText(node.host), asText(node.status), show(Array.isArray(node.gpus) ? node.gpus.length : null)])) : "",
          )
        : "",
      d.system ? section("system", tree(d.system as Json)) : "",
      section("charts", this.charts),
      section(
        "output",
        h(
          "label",
          { class: "follow" },
          h("input", { type: "checkbox", checked: this.#follow, onchange: (event: Event) => (this.#follow = (event.target as HTMLInputElement).checked) }),
          " follow",
        ),
        (this.#logBox = log ?? h("pre", { class: "log" })),
      ),
    );
  }

  #diffPicker(name: string): HTMLElement {
    const list = h("datalist", { id: "diff-runs" }, this.runNames().filter((other) => other !== name).slice(0, 5000).map((other) => h("option", { value: other })));
    const input = h("input", { class: "diff-with", type: "text", placeholder: "another run", attr: { list: "diff-runs" } });
    return h("span", { class: "diff-picker" }, list, input, h("button", { class: "diff-button", onclick: () => input.value && this.diffWith(input.value) }, "diff"));
  }

  #notesEditor(name: string): HTMLElement {
    const notes = this.#notes;
    const note = h("textarea", { class: "note-text", rows: 2, placeholder: "a note about this run", value: notes.note });
    const tags = h("input", { class: "tags-input", type: "text", placeholder: "tags, separated by spaces", value: notes.tags.join(" ") });
    const message = h("span", { class: "note saved" }, notes.updated_at ? `saved ${formatStart(notes.updated_at)} by ${notes.updated_by ?? "?"}` : "");
    const save = h("button", {
      class: "save-notes",
      onclick: async () => {
        try {
          const stored = await put<Notes>("/api/notes", { name }, {
            note: note.value,
            tags: tags.value.split(/[\s,]+/).filter(Boolean),
            expected: this.#notes.updated_at ?? null,
          });
          this.#notes = stored;
          fill(message, `saved ${formatStart(stored.updated_at ?? "")}`);
        } catch (error) {
          const conflict = error instanceof ApiError && error.status === 409;
          fill(message, h("span", { class: "warn" }, conflict ? "changed elsewhere meanwhile: reload the page to see it" : (error as Error).message));
        }
      },
    }, "save");
    return section("notes and tags", h("div", { class: "notes" }, note, tags, save, message));
  }

  /** Appends what output.log gained (called at open and on the run's "log" events). */
  async loadLog(): Promise<void> {
    const box = this.#logBox;
    if (box === null || !this.#name) return;
    let chunk: LogChunk;
    try {
      chunk = await get<LogChunk>("/api/log", { name: this.#name, file: this.#logFile, ...(this.#logEnd > 0 ? { from: this.#logEnd } : {}) });
    } catch (error) {
      if (this.#logEnd === 0) fill(box, (error as Error).message);
      return;
    }
    if (chunk.missing) {
      fill(box, "(no output.log: the run was not started by config-tracker run)");
      return;
    }
    if (this.#logEnd === 0) fill(box, chunk.earlier ? `… (${formatCount(chunk.from)}B earlier)\n` : "");
    if (chunk.lines.length > 0) box.append(document.createTextNode(`${chunk.lines.join("\n")}\n`));
    // Keep the page light: at most ~5,000 lines shown.
    while (box.childNodes.length > 200) box.firstChild?.remove();
    this.#logEnd = chunk.end;
    if (this.#follow) box.scrollTop = box.scrollHeight;
    if (chunk.end < chunk.size && chunk.lines.length > 0) await this.loadLog();
  }
}
