/**
 * Building the page's elements. Everything a run provides (names, config keys and values, metric
 * names, log lines, notes) becomes a text node or a property: nothing here ever parses markup
 * (no innerHTML, outerHTML, insertAdjacentHTML or document.write anywhere in the page).
 */
export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string;
  title?: string;
  onclick?: (event: MouseEvent) => void;
  [attribute: string]: unknown;
}

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const item of child) append(parent, item);
    return;
  }
  parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
}

/** An element with properties (event handlers, dataset via `data`), attributes (`attr`) and children as text or nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") element.className = String(value);
      else if (key === "data") Object.assign(element.dataset, value as Record<string, string>);
      else if (key === "attr") for (const [name, item] of Object.entries(value as Record<string, string>)) element.setAttribute(name, item);
      else if (key === "style") Object.assign(element.style, value as Record<string, string>);
      else if (key.startsWith("on")) element.addEventListener(key.slice(2), value as EventListener);
      else (element as unknown as Record<string, unknown>)[key] = value;
    }
  }
  append(element, children);
  return element;
}

/** Replaces an element's children. */
export function fill(element: Element, ...children: Child[]): void {
  element.replaceChildren();
  append(element, children);
}

/** A value as text for a table cell (JSON for objects). */
export function asText(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
