#!/usr/bin/env bash
# Run the whole test suite in the project's virtual environment.
# pytest's exit code 5 means "no tests collected": that is a failure for us.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

"$VENV/bin/python" -m pytest -q -rfE "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
