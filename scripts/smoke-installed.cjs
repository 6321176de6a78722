// Run from a folder where config-tracker is installed (scripts/check-pack.sh, check-arm64.sh):
// require() from CommonJS, the binary that loaded, and inspectCheckpoint of a committed fixture
// against the count real PyTorch wrote to expected.json.
// Usage: node smoke-installed.cjs <checkpoint> <expected.json> <prebuilt|source>
"use strict";
const { dirname, basename, sep } = require("node:path");
const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");

const [checkpoint, expectedFile, expectBinary] = process.argv.slice(2);
// Resolved from the folder it runs in, not from this script's place in the repository.
const requireHere = createRequire(`${process.cwd()}/`);
const tracker = requireHere("config-tracker");
if (typeof requireHere("config-tracker/schema").configFileSchema?.parse !== "function") throw new Error("no config-tracker/schema");
const root = dirname(requireHere.resolve("config-tracker/package.json"));
const binary = requireHere("node-gyp-build").path(root);
const prebuilt = binary.includes(`${sep}prebuilds${sep}`);
if ((expectBinary === "prebuilt") !== prebuilt) {
  throw new Error(`expected the ${expectBinary} binary, node-gyp-build picked ${binary}`);
}
console.log(`require ok on node ${process.version} ${process.arch}: ${binary.slice(root.length + 1)}`);

tracker.inspectCheckpoint(checkpoint).then((info) => {
  const expected = JSON.parse(readFileSync(expectedFile, "utf8")).fixtures[basename(checkpoint)];
  for (const key of ["num_parameters", "num_tensors", "format"]) {
    if (info[key] !== expected[key]) throw new Error(`${key}: ${info[key]}, PyTorch says ${expected[key]}`);
  }
  console.log(`inspectCheckpoint ok: ${basename(checkpoint)} has ${info.num_parameters} parameters (${info.format})`);
});
