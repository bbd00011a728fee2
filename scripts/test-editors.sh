#!/usr/bin/env bash
# The VS Code extension: install its npm dependencies as package-lock.json pins them (npm
# caches them), type-check it, build it, and run its Node test, which speaks LSP to the real
# language server. CODEQUORUM_BIN names the server's executable (default: .venv/bin/codequorum).
set -euo pipefail
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
npm run check
npm run build
npm test
