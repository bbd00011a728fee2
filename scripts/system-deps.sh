#!/usr/bin/env bash
# System packages the tests need: bubblewrap for the sandbox, Neovim for the editor plugin's
# end-to-end test, PostgreSQL's server binaries (initdb, pg_ctl) for the shared feedback store's
# end-to-end test, which starts its own throwaway cluster, Chromium and ripgrep for the VS Code
# extension's test in a real VS Code (code-server, driven headless; VS Code's search runs rg),
# make and g++ to compile code-server's native modules (scripts/code-server-install.sh).
# Installs only what is missing.
set -euo pipefail

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
