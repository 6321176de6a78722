#!/usr/bin/env bash
# Makes .venv-torch2: a current torch (2.13, CPU) with transformers, safetensors and accelerate,
# for the checkpoint tests that need files today's torch writes (test/checkpoint-zoo.test.ts).
# Installed offline from the wheel store pip is configured with (`pip config list`); the default
# index is not reachable, so a missing store fails here at once, saying so.
# Usage: bash scripts/torch2-venv.sh [DIR]   (default: .venv-torch2 at the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.venv-torch2}
packages=(torch==2.13.0+cpu numpy safetensors transformers accelerate)
if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c 'import torch, transformers, safetensors; assert torch.__version__.startswith("2.13")' 2>/dev/null; then
  echo "$dir: torch $("$dir/bin/python" -c 'import torch; print(torch.__version__)') is there"
  exit 0
fi
rm -rf "$dir"
/usr/bin/python3 -m venv "$dir"
config=$("$dir/bin/pip" config list 2>/dev/null || true)
if ! grep -qE 'find-links|index-url' <<<"$config"; then
  echo "error: pip has no wheel store configured (pip config list shows no find-links or index-url): cannot install ${packages[*]} offline" >&2
  rm -rf "$dir"
  exit 1
fi
# (pip names every index location the store lacks a package in: noise, not errors)
if ! "$dir/bin/pip" install --quiet --retries 0 --timeout 2 "${packages[@]}" 2> >(grep -v 'is ignored: it is neither' >&2); then
  echo "error: pip could not install ${packages[*]} from the configured wheel store (pip config list)" >&2
  rm -rf "$dir"
  exit 1
fi
echo "$dir: torch $("$dir/bin/python" -c 'import torch; print(torch.__version__)')"
