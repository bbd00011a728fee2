#!/usr/bin/env bash
# The VS Code extension: install its npm dependencies as package-lock.json pins them (npm
# caches them), type-check it, build it (tsc for the tests, the esbuild bundle it ships),
# run its Node tests (the logic without VS Code, then LSP against the real language server),
# and package it with vsce. CODEQUORUM_BIN names the server's executable (default:
# .venv/bin/codequorum); CODEQUORUM_VSIX, where to write the package (default:
# editors/vscode/codequorum-VERSION.vsix). With --package-only: install and package (vsce
# builds it through vscode:prepublish), without the type check and the Node tests, for the
# tests that only need the package.
set -euo pipefail
package_only=false
if [ "${1:-}" = "--package-only" ]; then
  package_only=true
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
export CODEQUORUM_BIN="${CODEQUORUM_BIN:-$root/.venv/bin/codequorum}"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is not installed; the VS Code extension needs Node.js 20 or newer with npm" >&2
    exit 1
  fi
done
cd "$root/editors/vscode"
npm ci --no-audit --no-fund
if [ "$package_only" = false ]; then
  npm run check
  npm run build
  npm test
fi
if [ -n "${CODEQUORUM_VSIX:-}" ]; then
  npm run package -- --out "$CODEQUORUM_VSIX"
else
  npm run package
fi
