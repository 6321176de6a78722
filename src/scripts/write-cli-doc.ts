/** `npm run docs:cli`: writes docs/cli.md from the CLI's grammar (src/cli/grammar.ts). */
import { writeFile } from "node:fs/promises";

import { renderCliDoc } from "../cli/cli-doc.js";

await writeFile(new URL("../../docs/cli.md", import.meta.url), renderCliDoc());
