/**
 * A deliberate public API: src/index.ts exports exactly what docs/api.md documents. The exports
 * are read by the TypeScript compiler (values and types alike); the documented names are the
 * import blocks at the top of api.md, each of which must also be described further down.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

import { repoRoot } from "./support/helpers.js";

const api = readFileSync(join(repoRoot, "docs", "api.md"), "utf8");

/** The names of the `import { ... } from "config-tracker"` (or `import type`) block. */
function importBlock(kind: "import" | "import type"): string[] {
  const match = new RegExp(`^${kind} \\{([^}]*)\\} from "config-tracker";`, "m").exec(api);
  if (match === null) throw new Error(`docs/api.md: no ${kind} block from "config-tracker"`);
  return (match[1] as string).split(",").map((name) => name.trim()).filter(Boolean);
}

/** What src/index.ts exports, as TypeScript sees it: value names and type-only names. */
function indexExports(): { values: string[]; types: string[] } {
  const index = join(repoRoot, "src", "index.ts");
  const program = ts.createProgram([index], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(index) as ts.SourceFile) as ts.Symbol;
  const values: string[] = [];
  const types: string[] = [];
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    // A class exported with `export type` is a type to its importers.
    const typeOnly = symbol.declarations?.some((declaration) => ts.isTypeOnlyImportOrExportDeclaration(declaration)) ?? false;
    if (target.flags & ts.SymbolFlags.Value && !typeOnly) values.push(symbol.name);
    else types.push(symbol.name);
  }
  return { values: values.sort(), types: types.sort() };
}

describe("the public API is what docs/api.md documents", () => {
  const exported = indexExports();
  const values = importBlock("import").sort();
  const types = importBlock("import type").sort();

  it("every value export is documented, and every documented value is exported", () => {
    expect(exported.values.filter((name) => !values.includes(name)), "exported, not in api.md's import block").toEqual([]);
    expect(values.filter((name) => !exported.values.includes(name)), "in api.md, not exported as a value").toEqual([]);
  });

  it("every type export is documented, and every documented type is exported", () => {
    expect(exported.types.filter((name) => !types.includes(name)), "exported, not in api.md's import type block").toEqual([]);
    expect(types.filter((name) => !exported.types.includes(name)), "in api.md, not exported as a type").toEqual([]);
  });

  it("each documented name is described, not only listed", () => {
    const body = api.slice(api.indexOf("## `new ConfigTracker"));
    const typesSection = api.slice(api.indexOf("## Types"));
    for (const name of values) expect(body, name).toMatch(new RegExp(`\`(new )?${name}[(\`]`));
    for (const name of types) expect(typesSection, name).toContain(`\`${name}\``);
  });
});
