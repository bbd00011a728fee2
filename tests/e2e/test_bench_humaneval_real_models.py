"""A tiny HumanEval collection through the real CLI: real members, hidden tests in bubblewrap."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e


PROBLEMS = ("HumanEval/0", "HumanEval/1", "HumanEval/2")


def test_collect_execute_replay_report_and_resume(installed_models, tmp_path):
    out = tmp_path / "bench"
    args = ("bench", "humaneval", "--limit", "3", "--members", "smollm2,qwen-small", "--out", str(out),
            "--strategies", "single,best-of")
    first = run_cli(*args, timeout=600)
    assert first.returncode == 0, first.stderr
    lines = (out / "candidates.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {(r["problem"], r["member"]) for r in records} == {
        (p, m) for p in PROBLEMS for m in ("smollm2", "qwen-small")}
    assert all(isinstance(r["passed"], bool) for r in records)
    assert all(r["checks"]["syntax"] is not None for r in records)
    assert "pass@1" in first.stdout and "oracle" in first.stdout

    results = json.loads((out / "results.json").read_text())
    strategies = {s["strategy"]: s for s in results["strategies"]}
    assert set(strategies) == {"single", "best-of"} and all(s["problems"] == 3 for s in strategies.values())
    assert {(o["strategy"], o["problem"]) for o in results["outcomes"]} == {
        (s, p) for s in strategies for p in PROBLEMS}
    # single asks the strongest member once: its figures are that member's greedy figures
    qwen = next(m for m in results["members"] if m["member"] == "qwen-small")
    assert strategies["single"]["pass_at_1"] == qwen["pass_at_1"]
    assert strategies["single"]["member_calls_per_problem"] == 1
    assert strategies["best-of"]["member_calls_per_problem"] == 2
    assert strategies["best-of"]["pass_at_1"] <= results["oracle"]
    assert (out / "frontier.png").read_bytes().startswith(b"\x89PNG")
    assert "| strategy best-of | 3 |" in (out / "results.md").read_text()

    again = run_cli(*args, timeout=300)  # everything is cached: nothing is generated again
    assert again.returncode == 0, again.stderr
    assert (out / "candidates.jsonl").read_text().splitlines() == lines
    replayed = json.loads((out / "results.json").read_text())
    assert without_wall_time(replayed["strategies"]) == without_wall_time(results["strategies"])


def without_wall_time(strategies: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "replay_seconds"} for s in strategies]


def test_logit_fusion_runs_live_on_the_real_members(installed_models, tmp_path):
    """It steps both Qwen models token by token, which no collection holds: the replay runs it
    on the real models, checked against the hidden tests like every other strategy."""
    out = tmp_path / "bench"
    args = ("bench", "humaneval", "--limit", "1", "--members", "qwen-small,qwen-large",
            "--out", str(out), "--strategies", "single,logit-fusion")
    done = run_cli(*args, timeout=900)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    kept = [json.loads(line) for line in (out / "live.jsonl").read_text().splitlines()]
    assert [entry["outcome"]["problem"] for entry in kept] == ["HumanEval/0"]
    again = run_cli(*args, timeout=300)  # the fused answer is kept: nothing is generated again
    assert again.returncode == 0, again.stderr
    assert without_wall_time(json.loads((out / "results.json").read_text())["strategies"]) == \
        without_wall_time(results["strategies"])
    fusion = next(s for s in results["strategies"] if s["strategy"] == "logit-fusion")
    single = next(s for s in results["strategies"] if s["strategy"] == "single")
    assert fusion["misses"] == 0 and fusion["member_calls_per_problem"] == 1
    assert fusion["compute_seconds_per_problem"] > 0
    assert fusion["cost_per_problem"] > 0 and single["misses"] == 0
    assert fusion["pass_at_1"] == 1.0  # HumanEval/0, which both members solve alone


# The docstring's example is wrong on purpose: every sensible answer fails the visible test, so
# the cascade resamples; the well-stated problem's answer passes and is never resampled.
MISSTATED = {"id": "misstated", "entry_point": "add",
             "prompt": 'def add(a, b):\n    """Return a + b.\n    >>> add(2, 2)\n    5\n    """\n',
             "tests": "def check(f):\n    assert f(1, 2) == 3\n"}
WELL_STATED = {"id": "well-stated", "entry_point": "double",
               "prompt": 'def double(x):\n    """Return 2 * x.\n    >>> double(3)\n    6\n    """\n',
               "tests": "def check(f):\n    assert f(4) == 8\n"}


def test_samples_are_collected_on_demand_where_the_cascade_resamples(installed_models, tmp_path):
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(json.dumps(p) + "\n" for p in (MISSTATED, WELL_STATED)))
    out = tmp_path / "bench"

    def bench(samples: int):  # type: ignore[no-untyped-def]
        done = run_cli("bench", "file", str(suite), "--members", "qwen-small", "--samples", str(samples),
                       "--temperature", "0.6", "--lazy-samples", "--out", str(out),
                       "--strategies", f"cascade:samples=1:resample={samples}", timeout=600)
        assert done.returncode == 0, done.stderr
        return done

    first = bench(2)
    lines = (out / "candidates.jsonl").read_text().splitlines()
    sampled = [r for r in map(json.loads, lines) if r["setting"] == "k2-t0.6"]
    assert [(r["problem"], r["index"]) for r in sampled] == [("misstated", 0), ("misstated", 1)]
    assert all(isinstance(r["passed"], bool) and r["compute_seconds"] > 0 for r in sampled)
    assert "collected on demand: 1 cells, 2 sampled answers" in first.stdout
    assert "# sampled on demand: misstated qwen-small: 2 new in " in first.stdout
    assert "| member qwen-small (k2-t0.6) | 1 (a subset: not on the frontier) |" in \
        (out / "results.md").read_text()
    cascade = json.loads((out / "results.json").read_text())["strategies"][0]
    assert cascade["misses"] == 0 and cascade["member_calls_per_problem"] == 1.5  # 2 calls, then 1

    again = bench(2)  # the samples are in the store: nothing is generated again
    assert (out / "candidates.jsonl").read_text().splitlines() == lines
    assert "collected on demand: 0 cells, 0 sampled answers" in again.stdout

    more = bench(3)  # a third sample: the two stored ones are kept, one is generated (seed 2)
    assert "# sampled on demand: misstated qwen-small: 1 new in " in more.stdout
    assert ", 2 kept from a smaller cell" in more.stdout
    larger = [r for r in map(json.loads, (out / "candidates.jsonl").read_text().splitlines())
              if r["setting"] == "k3-t0.6"]
    assert [r["index"] for r in larger] == [0, 1, 2]
    assert [r["text"] for r in larger[:2]] == [r["text"] for r in sampled]
