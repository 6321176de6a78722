#!/usr/bin/env bash
# Builds the binaries that ship in the npm package (npm pack runs this as prepack):
#   prebuilds/linux-x64/config-tracker.glibc.node     (native build)
#   prebuilds/linux-arm64/config-tracker.glibc.node   (Debian's g++-aarch64-linux-gnu)
# Node-API builds: one binary per platform for every Node.js >= 20. prebuildify runs node-gyp;
# node-gyp-build picks the file at run time. The build happens in a staging copy so that the
# developer's own build/ (and the build it holds) is left alone.
#
# Usage: scripts/prebuild.sh [--force] [x64] [arm64]   (default: both; skips an up-to-date binary)
# Needs: g++ and make; for arm64 g++-aarch64-linux-gnu (apt). Node headers: npm's nodedir, as
# configured for node-gyp (Node-API headers are the same for every architecture).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

force=0; arches=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    x64 | arm64) arches+=("$arg") ;;
    *) echo "prebuild: unknown argument: $arg (expected --force, x64, arm64)" >&2; exit 2 ;;
  esac
done
[ ${#arches[@]} -gt 0 ] || arches=(x64 arm64)

if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "prebuild: builds on linux x86_64 only (this is $(uname -s) $(uname -m))" >&2; exit 1
fi

# The inputs of the binary: a prebuild older than any of them is rebuilt.
inputs=(binding.gyp package.json scripts/native-sources.cjs $(git ls-files native 2>/dev/null || find native -type f))
stale() {
  local out=$1
  [ "$force" -eq 1 ] || [ ! -f "$out" ] && return 0
  for input in "${inputs[@]}"; do [ "$input" -nt "$out" ] && return 0; done
  return 1
}

# node-gyp reads npm's nodedir from the environment when npm runs it; outside npm, ask npm.
if [ -z "${npm_config_nodedir:-}" ]; then
  nodedir=$(npm config get nodedir 2>/dev/null || true)
  [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ] && export npm_config_nodedir=$nodedir
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ct-prebuild-XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp -r binding.gyp package.json native "$stage/"
mkdir "$stage/scripts" && cp scripts/native-sources.cjs "$stage/scripts/"
ln -s "$root/node_modules" "$stage/node_modules"
prebuildify="$root/node_modules/.bin/prebuildify"
node_gyp="$root/node_modules/.bin/node-gyp"

for arch in "${arches[@]}"; do
  out="prebuilds/linux-$arch/config-tracker.glibc.node"
  if ! stale "$out"; then echo "prebuild: $out is up to date"; continue; fi
  args=(--napi --strip --tag-libc --arch "$arch" --node-gyp "$node_gyp" --cwd "$stage")
  if [ "$arch" = arm64 ]; then
    command -v aarch64-linux-gnu-g++ >/dev/null \
      || { echo "prebuild: arm64 needs the cross compiler: apt-get install g++-aarch64-linux-gnu" >&2; exit 1; }
    env CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
      "$prebuildify" "${args[@]}" --strip-bin aarch64-linux-gnu-strip
  else
    "$prebuildify" "${args[@]}"
  fi
  built="$stage/prebuilds/linux-$arch/config-tracker.glibc.node"
  [ -f "$built" ] || { echo "prebuild: prebuildify made no $built" >&2; ls -R "$stage/prebuilds" >&2 || true; exit 1; }
  mkdir -p "prebuilds/linux-$arch"
  cp "$built" "$out"
  echo "prebuild: $out ($(du -k "$out" | cut -f1) KiB)"
done
bash scripts/check-glibc.sh "${arches[@]/#/prebuilds/linux-}"
