/**
 * Imports (src/) and includes (native/) only go down the layers that docs/development.md maps and
 * scripts/check-layers.mjs lists; in native/ only binding/ includes napi.h and only platform/
 * depends on the operating system.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

// @ts-expect-error: a plain ES module script without type declarations
import { LAYERS, violations } from "../scripts/check-layers.mjs";
import { repoRoot, tempDir } from "./support/helpers.js";

type Check = (root: string, layers: string[][]) => string[];
const check = violations as Check;
const layers = LAYERS as { src: string[][]; native: string[][] };

function tree(files: Record<string, string>): string {
  const root = tempDir("ct-layers-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("the layers", () => {
  it("src/ and native/ import and include only downwards", () => {
    expect(check(join(repoRoot, "src"), layers.src)).toEqual([]);
    expect(check(join(repoRoot, "native"), layers.native)).toEqual([]);
  });

  it("an import up a layer, one to a peer, napi.h outside binding/ and a file in no layer are each named", () => {
    const src = tree({
      "tracker.ts": "export const x = 1;\n",
      "experiment/status.ts": 'import { x } from "../tracker.js";\nexport const y = x;\n',
      "views/load-run.ts": 'import type { z } from "../run/run-command.js";\nexport const w = await import("../sweep/sweep.js");\n',
      "run/run-command.ts": "export type z = 1;\n",
      "sweep/sweep.ts": "export {};\n",
      "experiment/layout.ts": 'export { y } from "./status.js";\n', // its own unit: fine
      "stray.ts": "export {};\n",
    });
    expect(check(src, layers.src).sort()).toEqual([
      "experiment/status.ts -> tracker.ts: a layer above (tracker.ts)",
      "stray.ts: in no layer (add its folder to scripts/check-layers.mjs)",
      "views/load-run.ts -> run/run-command.ts: a peer (run/)",
      "views/load-run.ts -> sweep/sweep.ts: a peer (sweep/)",
    ]);
    const native = tree({
      "binding/convert.h": "#include <napi.h>\n",
      "common/text.h": '#include "../binding/convert.h"\n',
      "formats/zip.cpp": '#include "../inspect/inspect.h"\n#include <napi.h>\n',
      "inspect/inspect.h": '#include "../formats/zip.h"\n',
      "formats/zip.h": "\n",
      "pickle/machine.cpp": '#include "../containers/json.h"\n',
      "containers/json.h": "\n",
      "common/pages.h": "#if defined(__linux__)\n#endif\n#ifdef __APPLE__\n#endif\n#include <link.h>\n#include <sys/mman.h>\n",
      "platform/linux.cpp": "#if defined(__linux__)\n#include <link.h>\n#endif\n",
      "test/linux_test.cpp": "#ifdef __linux__\n#endif\n",
    });
    expect(check(native, layers.native).sort()).toEqual([
      "common/pages.h: __APPLE__ (only platform/ may depend on the operating system)",
      "common/pages.h: __linux__ (only platform/ may depend on the operating system)",
      "common/pages.h: link.h (only platform/ may depend on the operating system)",
      "common/text.h -> binding/convert.h: a layer above (binding/)",
      "formats/zip.cpp -> inspect/inspect.h: a layer above (inspect/)",
      "formats/zip.cpp: includes napi.h (only binding/ may)",
      "pickle/machine.cpp -> containers/json.h: a peer (containers/)",
    ]);
  });

  it("the core compiles and links, nothing undefined, for a system that is not Linux (platform/posix.cpp)", () => {
    const result = spawnSync("bash", [join(repoRoot, "scripts", "check-portable.sh")], { encoding: "utf8" });
    expect(result.stderr + result.stdout).toMatch(/core sources compile and link with __linux__ undefined/);
    expect(result.status).toBe(0);
  }, 600_000);
});
