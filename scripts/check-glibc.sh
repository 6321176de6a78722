#!/usr/bin/env bash
# Prints the highest GLIBC_x.y each Linux binary needs and fails above the floor the docs promise
# (GLIBC_2.28: RHEL 8; Ubuntu 20.04 has 2.31), or when a binary needs the system's libstdc++ (its
# version is the compiler's, not the floor's: it is linked in) or exports more than Node-API's entry points.
# Usage: scripts/check-glibc.sh [FILE_OR_FOLDER...]   (default: prebuilds/)
set -euo pipefail
cd "$(dirname "$0")/.."
floor=${CONFIG_TRACKER_GLIBC_FLOOR:-2.28}

files=()
for arg in "${@:-prebuilds}"; do
  if [ -d "$arg" ]; then
    while IFS= read -r file; do files+=("$file"); done < <(find "$arg" -name '*.node' -path '*linux*' | sort)
  else
    files+=("$arg")
  fi
done
[ ${#files[@]} -gt 0 ] || { echo "check-glibc: no binaries under ${*:-prebuilds}" >&2; exit 1; }

status=0
for file in "${files[@]}"; do
  # readelf reads any architecture's ELF; -V lists the versions the binary needs from each library.
  needs=$(readelf -V --wide "$file" | grep -oE 'Name: GLIBC_[0-9.]+' | sed 's/Name: GLIBC_//' | sort -Vu)
  highest=$(tail -n 1 <<<"$needs")
  arch=$(readelf -h "$file" | sed -n 's/ *Machine: *//p')
  echo "$file ($arch): highest GLIBC_$highest (floor GLIBC_$floor)"
  if [ "$(printf '%s\n%s\n' "$highest" "$floor" | sort -V | tail -n 1)" != "$floor" ]; then
    echo "  above the floor; the symbols:" >&2
    readelf --dyn-syms --wide "$file" | grep -E "@GLIBC_[0-9.]+" | awk '{print "    " $8}' \
      | while read -r sym; do v=${sym##*@GLIBC_}; [ "$(printf '%s\n%s\n' "$v" "$floor" | sort -V | tail -n 1)" = "$floor" ] || echo "$sym"; done >&2
    status=1
  fi
  if readelf -d "$file" | grep -q 'NEEDED.*libstdc++'; then
    echo "  needs the system's libstdc++.so.6 (link it in: -static-libstdc++)" >&2; status=1
  fi
  exported=$(readelf --dyn-syms --wide "$file" | awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK" || $5 == "UNIQUE") {print $8}' \
    | grep -vxE 'napi_register_module_v1|node_api_module_get_api_version_v1' || true)
  if [ -n "$exported" ]; then
    echo "  exports $(wc -l <<<"$exported") symbols besides Node-API's entry points, e.g. $(head -n 2 <<<"$exported" | tr '\n' ' ')" >&2
    status=1
  fi
done
exit $status
