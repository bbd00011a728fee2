#!/usr/bin/env bash
# Run the test suite in the project's virtual environment: the fast tests first (unit and
# security: no model is loaded), then the end-to-end tests (real models, real sandbox, real
# LSP sessions), each stage with pytest's progress and its duration.
#   scripts/run-tests.sh          both stages; stops after the first if it fails
#   scripts/run-tests.sh --fast   the fast stage only (`make test-fast`)
# Further arguments go to pytest. pytest's exit code 5 ("no tests collected") is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"

stages=("fast:tests/unit tests/security" "end-to-end:tests/e2e")
if [ "${1:-}" = "--fast" ]; then
  shift
  stages=("${stages[0]}")
fi

for stage in "${stages[@]}"; do
  name="${stage%%:*}"
  read -r -a paths <<< "${stage#*:}"
  echo "== ${name} tests: ${paths[*]}"
  started=$SECONDS
  "$VENV/bin/python" -m pytest -rfE -o console_output_style=count "${paths[@]}" "$@"
  status=$?
  echo "== ${name} tests: exit ${status} after $((SECONDS - started)) s"
  if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no ${name} tests" >&2
    exit 1
  fi
  if [ "$status" -ne 0 ]; then
    exit "$status"
  fi
done
