#!/usr/bin/env bash
# Proves the package installs as a user receives it. npm pack (prepack builds the prebuilt
# binaries), then npm install of the tarball in empty folders:
#   1. with a PATH that has no make, g++, cc or python3: the prebuilt binary loads, nothing compiles;
#   2. with install scripts blocked (--ignore-scripts): the same;
#   3. from source (--build-from-source): node-gyp compiles, the local build loads.
# In each: require() from CommonJS, inspectCheckpoint of a fixture, `config-tracker hardware --json`
# (and in 1 the ESM import and a tracker). The addon links neither CUDA nor NVML.
# Leaves the installed folder of 1 at $CONFIG_TRACKER_PACK_KEEP when that is set (check-arm64.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ct-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT
fixture="$root/test/fixtures/checkpoints/nanogpt_ckpt.pt"
expected="$root/test/fixtures/checkpoints/expected.json"

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
tar -tzf "$work/$tarball" > "$work/contents.txt"
for file in dist/index.d.ts dist/ui/page/page.js dist/ui/page/page.css dist/ui/column-worker.js schema/config.schema.json prebuilds/linux-x64/config-tracker.glibc.node \
  prebuilds/linux-arm64/config-tracker.glibc.node binding.gyp native/platform/glibc_floor.h; do
  grep -qx "package/$file" "$work/contents.txt" || { echo "tarball lacks $file" >&2; exit 1; }
done
if grep -qE 'package/(test|build|build-cmake|node_modules)/' "$work/contents.txt"; then
  echo "tarball carries test/build files" >&2; exit 1
fi
bash scripts/check-glibc.sh prebuilds

cli_ok() { # reads `hardware --json` output
  node -e '
    let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const info = JSON.parse(text);
      for (const key of ["platform", "cpu_count", "gpu_count", "host_gpu_count", "gpus", "gpu_unavailable_reason"])
        if (!(key in info)) throw new Error("missing " + key);
      console.log("cli ok: " + (info.gpu_unavailable_reason ?? info.gpu_count + " gpu(s)"));
    });'
}

# 1. A PATH of symlinks to node, npm and shell basics only.
bin="$work/bin"; mkdir "$bin"
for tool in node npm npx sh bash env cat ls mkdir rm cp mv ln chmod tar gzip uname dirname basename sed grep; do
  ln -s "$(command -v "$tool")" "$bin/$tool"
done
for tool in make g++ gcc cc c++ python3 python; do
  if PATH=$bin command -v "$tool" >/dev/null; then echo "the bare PATH still has $tool" >&2; exit 1; fi
done
mkdir "$work/bare" && cd "$work/bare"
echo '{ "name": "app", "version": "1.0.0", "private": true }' > package.json
time_start=$(date +%s%N)
env -u PYTHON -u npm_config_python -u CC -u CXX PATH="$bin" \
  npm install --omit=dev --no-audit --no-fund "$work/$tarball" >"$work/bare-install.log" 2>&1 \
  || { cat "$work/bare-install.log" >&2; echo "install without a compiler failed" >&2; exit 1; }
echo "1. installed without make/g++/cc/python3 in $(( ($(date +%s%N) - time_start) / 1000000 )) ms"
[ ! -e node_modules/config-tracker/build ] || { echo "the install compiled (build/ exists)" >&2; exit 1; }
[ ! -e node_modules/typescript ] && [ ! -e node_modules/vitest ] || { echo "devDependencies were installed" >&2; exit 1; }
addon=node_modules/config-tracker/prebuilds/linux-x64/config-tracker.glibc.node
if readelf -d "$addon" | grep NEEDED | grep -Eq 'libcuda|libnvidia-ml|libcudart'; then
  echo "the addon links CUDA or NVML; it must dlopen them" >&2; exit 1
fi
PATH="$bin" node "$root/scripts/smoke-installed.cjs" "$fixture" "$expected" prebuilt
PATH="$bin" node --input-type=module -e '
  import { ConfigTracker, getHardwareInfo } from "config-tracker";
  const info = await getHardwareInfo();
  if (typeof info.gpu_available !== "boolean") throw new Error("no gpu_available");
  const tracker = new ConfigTracker("run1");
  await tracker.saveConfig({ lr: 0.1 });
  const loaded = await tracker.loadConfig();
  if (loaded.experiment_id !== "run1") throw new Error("bad experiment_id");
  console.log("import ok: gpu_available=" + info.gpu_available);
'
PATH="$bin" node_modules/.bin/config-tracker hardware --json | cli_ok
# The dashboard starts from the installed package (its page bundled in dist/, no network).
mkdir -p ui-runs/a && cp "$root/test/fixtures/runs/tree/sgd_lr0.05/"*.json ui-runs/a/
PATH="$bin" node_modules/.bin/config-tracker ui ui-runs --port 0 >ui.out 2>ui.err & ui_pid=$!
for _ in $(seq 50); do [ -s ui.out ] && grep -q serving ui.err && break; sleep 0.2; done
ui_url=$(head -n 1 ui.out)
PATH="$bin" node -e '
  const url = process.argv[1];
  (async () => {
    const page = await (await fetch(url)).text();
    const script = await (await fetch(new URL("/assets/page.js", url))).text();
    const table = await (await fetch(new URL("/api/table", url))).json();
    if (!page.includes("/assets/page.js") || script.length < 10000 || table.runs.name[0] !== "a") throw new Error("the dashboard did not serve its page and runs");
    console.log("ui ok: " + url + " serves its page (" + Math.round(script.length / 1024) + " KiB of script) and " + table.count + " run");
  })().catch((error) => { console.error(error.message); process.exit(1); });' "$ui_url"
kill -INT $ui_pid; wait $ui_pid

# 2. Install scripts blocked.
mkdir "$work/noscripts" && cd "$work/noscripts"
echo '{ "name": "app", "version": "1.0.0", "private": true }' > package.json
npm install --omit=dev --ignore-scripts --no-audit --no-fund "$work/$tarball" >/dev/null
echo "2. installed with --ignore-scripts"
node "$root/scripts/smoke-installed.cjs" "$fixture" "$expected" prebuilt
node_modules/.bin/config-tracker hardware --json | cli_ok
# No binary for this platform (as on one without a prebuilt) and no build: a clear error, exit 1.
mv node_modules/config-tracker/prebuilds "$work/prebuilds-away"
if node_modules/.bin/config-tracker hardware --json >/dev/null 2>"$work/no-binary.txt"; then
  echo "hardware ran with no binary" >&2; exit 1
fi
grep -q 'No native build was found for platform=linux arch=x64' "$work/no-binary.txt" \
  && grep -q 'npm rebuild config-tracker --build-from-source' "$work/no-binary.txt" \
  || { cat "$work/no-binary.txt" >&2; echo "no clear error without a binary" >&2; exit 1; }
echo "no binary: $(grep -m1 'No native build' "$work/no-binary.txt" | sed 's/^ *//')"
mv "$work/prebuilds-away" node_modules/config-tracker/prebuilds

# 3. From source with node-gyp (the path for platforms without a prebuilt binary).
mkdir "$work/source" && cd "$work/source"
echo '{ "name": "app", "version": "1.0.0", "private": true }' > package.json
time_start=$(date +%s%N)
npm install --omit=dev --build-from-source --no-audit --no-fund "$work/$tarball" >"$work/source-install.log" 2>&1 \
  || { tail -n 30 "$work/source-install.log" >&2; echo "install from source failed" >&2; exit 1; }
echo "3. installed from source in $(( ($(date +%s%N) - time_start) / 1000000 )) ms"
[ -f node_modules/config-tracker/build/Release/config_tracker.node ] || { echo "--build-from-source built nothing" >&2; exit 1; }
node "$root/scripts/smoke-installed.cjs" "$fixture" "$expected" source
node_modules/.bin/config-tracker hardware --json | cli_ok

if [ -n "${CONFIG_TRACKER_PACK_KEEP:-}" ]; then
  rm -rf "$CONFIG_TRACKER_PACK_KEEP" && cp -r "$work/noscripts" "$CONFIG_TRACKER_PACK_KEEP"
fi
echo "pack check passed"
