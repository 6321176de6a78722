// Bundles the dashboard's page (src/ui/page/main.ts, uPlot, their CSS) into dist/ui/page/page.js
// and page.css with esbuild: the files `config-tracker ui` serves, with nothing fetched from the
// network. Run by `npm run build` (and so by npm ci, npm test and npm pack).
import { build } from "esbuild";
import { statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const outdir = join(root, "dist", "ui", "page");
const result = await build({
  entryPoints: { page: join(root, "src", "ui", "page", "main.ts") },
  outdir,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["chrome100", "firefox100", "safari15"],
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
  metafile: true,
});
const sizes = Object.keys(result.metafile.outputs).map((file) => `${file.replace(/^.*dist\//, "dist/")} ${(statSync(join(root, file)).size / 1024).toFixed(0)} KiB`);
console.log(`built the dashboard page: ${sizes.join(", ")}`);
