#!/usr/bin/env bash
# code-server (VS Code in a browser) for the VS Code extension's test in a real VS Code,
# installed from npm into a cache folder, never into the repository. Prints the path of its
# `code-server` executable; a second run only checks the installation.
# Usage: scripts/code-server-install.sh [DIR]
#
# code-server's own install scripts download ripgrep and argon2's prebuilt binaries from
# GitHub, so they are skipped (--ignore-scripts) and their work is done here without the
# network: VS Code's server dependencies are installed from the registry, the native modules
# are compiled against the headers of the Node.js that runs them, and VS Code's search uses the
# system's `rg` (Debian's ripgrep). Needs Node.js 20 with its headers, a C++ compiler and make.
set -euo pipefail
version="4.100.3"
root="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/codequorum-tests/code-server-$version}"
package="$root/node_modules/code-server"
executable="$root/node_modules/.bin/code-server"
stamp="$root/.installed"

fail() { echo "error: $*" >&2; exit 1; }

if [ ! -f "$stamp" ]; then
  for tool in node npm make g++ rg; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (scripts/system-deps.sh installs ripgrep, make and g++; code-server needs Node.js 20 with npm)"
  done
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$node_major" = 20 ] || fail "code-server $version runs on Node.js 20; this is $(node --version)"
  # node-gyp compiles against these headers instead of downloading them from nodejs.org.
  nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')"
  [ -f "$nodedir/include/node/node_api.h" ] || fail "the Node.js headers are not in $nodedir/include/node (install the nodejs package that ships them)"
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$node_gyp" ] || fail "npm's node-gyp is not at $node_gyp"

  # Built beside the cache folder and moved into place at the end: an interrupted run leaves
  # nothing that looks installed.
  mkdir -p "$(dirname "$root")"
  building="$(mktemp -d "$root.building.XXXXXX")"
  trap 'rm -rf "$building"' EXIT
  npm_quiet=(--no-audit --no-fund --loglevel=error)
  echo '{"private": true}' >"$building/package.json"
  echo "installing code-server $version into $root" >&2
  (cd "$building" && npm install "${npm_quiet[@]}" --ignore-scripts "code-server@$version" >&2)

  build_native() {  # DIR: compile the module's binding.gyp with the local headers
    (cd "$1" && node "$node_gyp" rebuild --nodedir="$nodedir" --jobs="$(nproc)" >&2) \
      || fail "could not compile $1 (see the compiler's output above)"
  }
  # code-server's password hashing, loaded at start even with --auth none.
  (cd "$building/node_modules/argon2" && npx --no-install node-pre-gyp rebuild --build-from-source \
    --nodedir="$nodedir" --jobs="$(nproc)" >&2) || fail "could not compile argon2"

  # What code-server's postinstall.sh does, without its downloads.
  vscode="$building/node_modules/code-server/lib/vscode"
  (cd "$vscode" && npm install "${npm_quiet[@]}" --omit=dev --ignore-scripts >&2)
  # The logger, the terminal and the extension host's watchdog. kerberos (proxy
  # authentication) is left out: it needs the krb5 headers and only loads when a proxy asks.
  for module in @vscode/spdlog node-pty native-watchdog @vscode/deviceid; do
    build_native "$vscode/node_modules/$module"
  done
  mkdir -p "$vscode/node_modules/@vscode/ripgrep/bin"
  ln -sf "$(command -v rg)" "$vscode/node_modules/@vscode/ripgrep/bin/rg"
  ln -sfn node_modules "$vscode/node_modules.asar"
  ln -sf code-linux.sh "$vscode/bin/remote-cli/code-server"
  ln -sf browser-linux.sh "$vscode/bin/helpers/browser.sh"
  # The built-in extensions' shared dependency (TypeScript); its postinstall only trims it.
  (cd "$vscode/extensions" && npm install "${npm_quiet[@]}" --omit=dev >&2)

  rm -rf "$root"
  mv "$building" "$root"
  trap - EXIT
  echo "$version" >"$stamp"
fi

[ -x "$executable" ] || fail "$executable is missing: remove $root and run this again"
# Its own config file: code-server writes a default one where it is told (else ~/.config).
"$executable" --config "$root/config.yaml" --version 2>/dev/null | grep -q "^$version " \
  || fail "$executable is not code-server $version: remove $root and run this again"
echo "$executable"
