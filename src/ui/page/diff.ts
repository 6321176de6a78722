/** Two runs compared (what `diff` prints, from /api/diff): one line per differing key, marked as diff(1) marks them. */
import { get } from "./api.js";
import { asText, fill, h } from "./dom.js";
import { formatNumber } from "./shared.js";

interface Difference {
  key: string;
  kind: "changed" | "added" | "removed" | "same";
  a?: unknown;
  b?: unknown;
}

const MARK = { changed: "~", added: "+", removed: "-", same: " " } as const;
const show = (value: unknown) => (typeof value === "number" ? formatNumber(value) : asText(value));

export class DiffPage {
  readonly element = h("div", { class: "diff-page" });
  #all = false;

  constructor(readonly back: () => void, readonly open: (name: string) => void) {}

  async show(a: string, b: string): Promise<void> {
    fill(this.element, h("p", { class: "note" }, "loading…"));
    let diff: { a: string; b: string; equal: boolean; differences: Difference[] };
    try {
      diff = await get("/api/diff", { a, b, all: this.#all ? "1" : null, nonfinite: "string" });
    } catch (error) {
      fill(this.element, h("button", { class: "back", onclick: () => this.back() }, "← runs"), h("p", { class: "warn" }, (error as Error).message));
      return;
    }
    const link = (name: string) => h("a", { href: `?view=run&run=${encodeURIComponent(name)}`, onclick: (event: MouseEvent) => (event.preventDefault(), this.open(name)) }, name);
    fill(
      this.element,
      h("div", { class: "run-head" }, h("button", { class: "back", onclick: () => this.back() }, "← runs"), h("h2", null, "diff")),
      h("p", null, h("span", { class: "removed" }, "--- "), link(diff.a), h("br"), h("span", { class: "added" }, "+++ "), link(diff.b)),
      h(
        "label",
        null,
        h("input", { type: "checkbox", checked: this.#all, onchange: (event: Event) => ((this.#all = (event.target as HTMLInputElement).checked), void this.show(a, b)) }),
        " also the keys that are equal",
      ),
      diff.equal ? h("p", { class: "note" }, "(no differences)") : "",
      h(
        "table",
        { class: "kv diff" },
        h("thead", null, h("tr", null, h("th", null, ""), h("th", null, "key"), h("th", null, diff.a), h("th", null, diff.b))),
        h(
          "tbody",
          null,
          diff.differences.map((entry) =>
            h(
              "tr",
              { class: entry.kind },
              h("td", { class: "mark" }, MARK[entry.kind]),
              h("td", { class: "key" }, entry.key),
              h("td", null, "a" in entry ? show(entry.a) : ""),
              h("td", null, "b" in entry ? show(entry.b) : ""),
            ),
          ),
        ),
      ),
    );
  }
}
