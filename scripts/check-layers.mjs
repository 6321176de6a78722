// Imports and includes only go down the layers (docs/development.md draws the map). Each layer
// lists its units (a file, a folder, or folders that form one unit); a file may import its own
// unit and the units of the layers below it, never a peer or a layer above. In native/ only
// binding/ includes napi.h, and only platform/ (and the tests) asks which operating system it is
// built for. `node scripts/check-layers.mjs` prints each file that breaks a rule;
// test/layers.test.ts runs it in `npm test`.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Top first. A unit "a/ b/" is two folders that may include each other. */
export const LAYERS = {
  src: [
    ["scripts/"],
    ["cli.ts cli/", "index.ts"],
    ["ui/"],
    ["views/", "sweep/", "run/"],
    ["tracker.ts"],
    ["experiment/"],
    ["system/", "checkpoint.ts", "git.ts", "environment.ts"],
    ["hardware.ts"],
    ["torch-probe.ts", "native.ts"],
    ["io/", "text.ts", "json-value.ts", "elf-check.ts", "options.ts"],
    ["errors.ts", "python-json.ts", "schema.ts"],
  ],
  native: [
    ["test/"],
    ["binding/"],
    ["inspect/"],
    ["formats/"],
    ["checkpoint/"],
    ["pickle/", "containers/", "metrics/", "gpu/"],
    ["common/"],
    ["platform/"],
  ],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|\bimport\s*\(?\s*["'](\.[^"']+)["']/g;
const INCLUDE = /^\s*#\s*include\s+([<"])([^>"]+)[>"]/gm;
// A test of the target system, or a header only one system has.
const OS_SPECIFIC = /^\s*#\s*(?:if|ifdef|ifndef|elif)\b.*\b(__linux__|__linux|__APPLE__|__MACH__|_WIN32|__FreeBSD__)\b|^\s*#\s*include\s+<(link\.h|sys\/vfs\.h|sys\/sysctl\.h|mach\/[^>]+)>/gm;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** [layer index, unit] of a path relative to the tree's root, or null when no unit holds it. */
function place(layers, path) {
  const parts = path.split(sep);
  for (const [index, units] of layers.entries()) {
    for (const unit of units) {
      for (const member of unit.split(" ")) {
        if (member.endsWith("/") ? parts.length > 1 && parts[0] === member.slice(0, -1) : path === member) return [index, unit];
      }
    }
  }
  return null;
}

/** Every import or include in `root` (src/ or native/) that breaks the layering, as text. */
export function violations(root, layers) {
  const out = [];
  const isNative = layers === LAYERS.native;
  for (const file of files(root)) {
    if (!/\.(ts|mts|js|mjs|h|hpp|cc|cpp)$/.test(file) || file.endsWith(".d.ts")) continue;
    const from = relative(root, file);
    const here = place(layers, from);
    if (here === null) {
      out.push(`${from}: in no layer (add its folder to scripts/check-layers.mjs)`);
      continue;
    }
    const text = readFileSync(file, "utf8");
    const targets = [];
    if (isNative) {
      for (const [, bracket, name] of text.matchAll(INCLUDE)) {
        if (name === "napi.h" && !here[1].startsWith("binding/")) out.push(`${from}: includes napi.h (only binding/ may)`);
        if (bracket === '"') targets.push(name);
      }
      if (!["platform/", "test/"].includes(here[1])) {
        for (const match of text.matchAll(OS_SPECIFIC)) out.push(`${from}: ${match[1] ?? match[2]} (only platform/ may depend on the operating system)`);
      }
    } else {
      for (const match of text.matchAll(IMPORT)) targets.push((match[1] ?? match[2]).replace(/\.js$/, ".ts"));
    }
    for (const target of targets) {
      const resolved = resolve(dirname(file), target);
      if (!existsSync(resolved)) {
        if (!isNative || here[1] !== "test/") out.push(`${from}: ${target} does not resolve`);
        continue;
      }
      const to = relative(root, resolved);
      const there = place(layers, to);
      if (there === null || there[1] === here[1]) continue;
      if (there[0] <= here[0]) out.push(`${from} -> ${to}: ${there[0] === here[0] ? "a peer" : "a layer above"} (${there[1]})`);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
  const found = [...violations(join(repo, "src"), LAYERS.src), ...violations(join(repo, "native"), LAYERS.native)];
  for (const line of found) console.log(line);
  process.exitCode = found.length === 0 ? 0 : 1;
}
