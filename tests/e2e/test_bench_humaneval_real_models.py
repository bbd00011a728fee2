"""A tiny HumanEval collection through the real CLI: real members, hidden tests in bubblewrap."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e


def test_collect_execute_report_and_resume(installed_models, tmp_path):
    out = tmp_path / "bench"
    args = ("bench", "humaneval", "--limit", "2", "--members", "smollm2,qwen-small", "--out", str(out))
    first = run_cli(*args, timeout=600)
    assert first.returncode == 0, first.stderr
    lines = (out / "candidates.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {(r["problem"], r["member"]) for r in records} == {
        (p, m) for p in ("HumanEval/0", "HumanEval/1") for m in ("smollm2", "qwen-small")}
    assert all(isinstance(r["passed"], bool) for r in records)
    assert all(r["checks"]["syntax"] is not None for r in records)
    assert "pass@1" in first.stdout and "oracle" in first.stdout

    again = run_cli(*args, timeout=120)  # everything is cached: nothing is generated again
    assert again.returncode == 0, again.stderr
    assert (out / "candidates.jsonl").read_text().splitlines() == lines
