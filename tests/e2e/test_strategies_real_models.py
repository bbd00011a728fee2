"""The vote, rank and cascade strategies through the CLI and the real llama.cpp models
(Qwen2.5-Coder 0.5B and 1.5B), with the visible tests run in the real sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import generate_add, run_cli

pytestmark = pytest.mark.e2e

TWO_QWENS = """
[engine]
deadline_s = 240
[members.smollm2]
enabled = false
[strategies.vote]
samples = 2
[strategies.rank]
samples = 2
top_k = 3
[strategies.cascade]
samples = 2
"""


@pytest.fixture
def qwens_config(tmp_path: Path) -> Path:
    path = tmp_path / "codequorum.toml"
    path.write_text(TWO_QWENS)
    return path


def test_vote_answers_with_the_largest_behaviour_cluster(installed_models, qwens_config):
    result = generate_add("vote", qwens_config)
    calls = result["trace"]["calls"]
    assert sorted(c["member"] for c in calls) == ["qwen-large", "qwen-small"]
    assert all(c["error"] is None and c["samples"] == 2 for c in calls)
    assert len(result["candidates"]) == 4
    events = result["trace"]["events"]
    [sizes] = [e for e in events if e.startswith("clusters by ")]
    assert "behaviour on tests" in sizes
    winner_size = int(re.search(r"largest cluster(?: passing the checks)?: (\d+) of",
                                result["trace"]["stop_reason"]).group(1))
    largest = int(sizes.split(": ", 1)[1].split(" ", 1)[0])
    if "passing the checks" in result["trace"]["stop_reason"]:
        assert winner_size <= largest  # clusters that pass the visible tests come first
    else:
        assert winner_size == largest
    assert "def add" in result["text"]
    # every candidate of the winning cluster comes first and behaves the same on the tests
    winners = result["candidates"][:winner_size]
    assert len({json.dumps(c["checks"]["tests"]) for c in winners}) == 1
    assert winners[0]["checks"]["tests"] == {"passed": 3, "failed": 0}


def test_rank_returns_the_top_k_of_every_members_candidates(installed_models, qwens_config):
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--strategy", "rank", "--max-tokens", "32", "--config", str(qwens_config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted(c["member"] for c in result["trace"]["calls"]) == ["qwen-large", "qwen-small"]
    assert len(result["candidates"]) == 3  # top_k of 4
    assert "values" in result["text"] and "def median" not in result["text"]
    assert result["candidates"][0]["checks"]["syntax"] is True
    scores = [c["score"] for c in result["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert any(e.startswith("ranked by evidence, listwise") for e in result["trace"]["events"])
    assert result["trace"]["stop_reason"].endswith("returned the top 3")


def test_cascade_asks_the_cheap_member_first_and_traces_each_step(installed_models, qwens_config):
    result = generate_add("cascade", qwens_config)
    events = result["trace"]["events"]
    assert events[0].startswith("cascade, cheapest first: qwen-small (21/1k tokens), qwen-large")
    members = [c["member"] for c in result["trace"]["calls"]]
    assert members[0] == "qwen-small"
    steps = [e for e in events if e.startswith(("qwen-small: ", "qwen-large: "))]
    assert len(steps) == len(members)
    assert all(" samples agree by " in e and ", s = " in e for e in steps)
    blocked = any(e.startswith("not escalating to qwen-large") for e in events)  # a busy machine
    if blocked:
        assert members == ["qwen-small"] and steps[0].endswith("escalated")
        assert result["trace"]["stop_reason"].startswith("stopped escalating")
    elif members == ["qwen-small"]:
        assert steps[0].endswith("accepted") and result["trace"]["stop_reason"].startswith("accepted")
    else:
        assert members == ["qwen-small", "qwen-large"] and steps[0].endswith("escalated")
    assert "def add" in result["text"]
    best = result["candidates"][0]["checks"]["tests"]
    assert best == {"passed": 3, "failed": 0}


PROBING = """
[engine]
deadline_s = 240
[members.smollm2]
enabled = false
[strategies.cascade]
samples = 1
probes = 4
resample = 2
"""


def test_cascade_probes_untested_answers_by_the_values_they_return(installed_models, tmp_path):
    """No tests: the cheap member writes calls, both answers run them in the sandbox, and the
    cascade takes the strong answer only when the other behaves the same."""
    config = tmp_path / "codequorum.toml"
    config.write_text(PROBING)
    done = run_cli("generate", "--instruction",
                   "Write a Python function is_even(n) that returns True when the integer n is even.",
                   "--strategy", "cascade", "--max-tokens", "64", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    events = result["trace"]["events"]
    members = [c["member"] for c in result["trace"]["calls"]]
    assert members[:3] == ["qwen-small", "qwen-large", "qwen-small"]  # the third call writes the probes
    [written] = [e for e in events if e.startswith("qwen-small wrote ")]
    assert "is_even(" in written and not written.startswith("qwen-small wrote 0 ")
    values = [c["checks"].get("probes") for c in result["candidates"]]
    assert any(values), values  # values recorded in the sandbox
    step = next(e for e in events if e.startswith("qwen-large: "))
    assert " samples agree by probes" in step, step
    resampled = any("resampling qwen-large 2 times" in e for e in events)
    assert members[3:] == (["qwen-large"] if resampled else [])
    assert "def is_even" in result["text"]
