#!/usr/bin/env bash
# Builds the native core (every file of native/core_sources.txt, no Node headers) with the
# compiler told it is not building for Linux, and links it with no symbol left undefined:
# platform/posix.cpp stands in for platform/linux.cpp, and nothing above platform/ may notice.
# This is not a macOS build (there is no Darwin SDK here): it shows that the code other systems
# get compiles and is complete, against this host's C library (zlib as the core build has it).
set -euo pipefail
cd "$(dirname "$0")/.."
compiler=${CXX_PORTABLE:-clang++}
command -v "$compiler" >/dev/null || { echo "check-portable: $compiler not found" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/ct-portable-XXXXXX")
trap 'rm -rf "$out"' EXIT
grep -v '^\s*$' native/core_sources.txt | nl -w1 -s' ' | xargs -P 2 -n 2 sh -c '
  "$0" -std=c++17 -O0 -fPIC -Wall -Wextra -Werror -U__linux__ -U__linux -Ulinux -U__gnu_linux__ \
    -c "native/$2" -o "'"$out"'/$1.o" || { echo "check-portable: native/$2 does not compile without __linux__" >&2; exit 255; }
' "$compiler"
"$compiler" -shared -Wl,--no-undefined -o "$out/core.so" "$out"/*.o -lz -ldl -lpthread \
  || { echo "check-portable: the core does not link without __linux__" >&2; exit 1; }
echo "check-portable: $(ls "$out"/*.o | wc -l) core sources compile and link with __linux__ undefined ($compiler)"
