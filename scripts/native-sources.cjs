// Prints the native source files for binding.gyp (`<!@(node scripts/native-sources.cjs core binding)`),
// read from native/<list>_sources.txt: the one list CMakeLists.txt reads too.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const files = process.argv.slice(2).flatMap((list) =>
  readFileSync(join(__dirname, "..", "native", `${list}_sources.txt`), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => `native/${line}`),
);
process.stdout.write(files.join(" "));
