#!/usr/bin/env bash
# Proves the package installs as a user receives it: npm pack, then npm install of the tarball in
# an empty folder (the addon compiles from source; no devDependencies, no CUDA toolkit), then the
# public import and the CLI work there, and the addon links neither CUDA nor NVML.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ct-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
tar -tzf "$work/$tarball" > "$work/contents.txt"
grep -q 'package/dist/index.d.ts' "$work/contents.txt"
grep -q 'package/schema/config.schema.json' "$work/contents.txt"
if grep -qE 'package/(test|build|node_modules)/' "$work/contents.txt"; then
  echo "tarball carries test/build files" >&2; exit 1
fi

mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install --omit=dev --no-audit --no-fund "$work/$tarball" >/dev/null
[ ! -e node_modules/typescript ] && [ ! -e node_modules/vitest ] || { echo "devDependencies were installed" >&2; exit 1; }

addon=node_modules/config-tracker/build/Release/config_tracker.node
if readelf -d "$addon" | grep NEEDED | grep -Eq 'libcuda|libnvidia-ml|libcudart'; then
  echo "the addon links CUDA or NVML; it must dlopen them" >&2; exit 1
fi

node --input-type=module -e '
  import { ConfigTracker, getHardwareInfo } from "config-tracker";
  const info = await getHardwareInfo();
  if (typeof info.gpu_available !== "boolean") throw new Error("no gpu_available");
  const tracker = new ConfigTracker("run1");
  await tracker.saveConfig({ lr: 0.1 });
  const loaded = await tracker.loadConfig();
  if (loaded.experiment_id !== "run1") throw new Error("bad experiment_id");
  console.log("import ok: gpu_available=" + info.gpu_available);
'
npx --no-install config-tracker hardware --json | node -e '
  let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
    const info = JSON.parse(text);
    for (const key of ["platform", "cpu_count", "gpu_count", "host_gpu_count", "gpus", "gpu_unavailable_reason"])
      if (!(key in info)) throw new Error("missing " + key);
    console.log("cli ok: " + (info.gpu_unavailable_reason ?? info.gpu_count + " gpu(s)"));
  });'
echo "pack check passed"
