"""The fuse, moa, route and logit-fusion strategies through the CLI and the real llama.cpp
models (Qwen2.5-Coder 0.5B and 1.5B), with the visible tests run in the real sandbox and, for
route, the real bundled MiniLM encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codequorum.vocabulary.records import CandidateStore, Record
from tests.e2e.conftest import generate_add, run_cli

pytestmark = pytest.mark.e2e

TWO_QWENS = """
[engine]
deadline_s = 600
[members.smollm2]
enabled = false
[strategies.fuse]
top_k = 2
min_distinct = 1
[strategies.moa]
layers = 1
min_distinct = 1
[strategies.route]
k = 3
memory = "{memory}"
"""


@pytest.fixture
def qwens_config(tmp_path: Path) -> Path:
    path = tmp_path / "codequorum.toml"
    path.write_text(TWO_QWENS.format(memory=tmp_path / "router-memory.jsonl"))
    return path


def test_fuse_hands_the_top_candidates_to_the_strongest_member(installed_models, qwens_config):
    result = generate_add("fuse", qwens_config)
    calls = [c["member"] for c in result["trace"]["calls"]]
    events = result["trace"]["events"]
    assert events[0] == "asking every member (qwen-large, qwen-small) for 1 sample(s); fuser: qwen-large"
    assert sorted(calls[:2]) == ["qwen-large", "qwen-small"]
    # greedy answers may be the same text: min_distinct = 1 fuses them all the same
    assert any(e.startswith("fusing the top ") and e.endswith(" with qwen-large") for e in events), events
    assert calls[2:] == ["qwen-large"] and result["trace"]["calls"][2]["prompt_kind"] == "chat"
    assert len(result["candidates"]) == 3  # one sample each and the fused answer
    assert any(e.startswith("fused answer ranked ") for e in events)
    assert "def add" in result["text"]
    assert result["candidates"][0]["checks"]["tests"] == {"passed": 3, "failed": 0}


def test_moa_aggregates_the_first_layer_and_ranks_every_answer(installed_models, qwens_config):
    result = generate_add("moa", qwens_config)
    # as for fuse, min_distinct = 1 aggregates even when both greedy answers are the same text
    calls = [c["member"] for c in result["trace"]["calls"]]
    assert sorted(calls[:2]) == ["qwen-large", "qwen-small"] and calls[2:] == ["qwen-large"]
    events = result["trace"]["events"]
    assert events[0] == "mixture of agents: 1 layer(s) of qwen-large, qwen-small; aggregator: qwen-large"
    assert "layer 1: asked qwen-large, qwen-small; 2 answer(s) from qwen-large, qwen-small" in events
    assert "aggregator: asked qwen-large; 1 answer(s) from qwen-large" in events
    [ranked] = [e for e in events if e.startswith("ranked: ")]
    assert "aggregator (qwen-large)" in ranked and "layer 1 (qwen-small)" in ranked
    assert len(result["candidates"]) == 3
    assert "def add" in result["text"]
    assert result["candidates"][0]["checks"]["tests"] == {"passed": 3, "failed": 0}
    assert result["trace"]["stop_reason"].startswith("best: ")


ARITHMETIC = {
    "add": 'def add(a, b):\n    """Return the sum of the two numbers a and b."""\n',
    "add3": 'def add_three(a, b, c):\n    """Return a + b + c."""\n',
    "sub": 'def subtract(a, b):\n    """Return a minus b."""\n',
    "mul": 'def multiply(a, b):\n    """Return the product of a and b."""\n',
}


def test_route_builds_its_memory_from_a_bench_folder_and_picks_the_cheap_member(
        installed_models, qwens_config, tmp_path):
    bench = tmp_path / "bench-out"
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"id": key, "prompt": prompt, "tests": "def check(f): pass",
                                            "entry_point": "f"}) + "\n" for key, prompt in ARITHMETIC.items()))
    CandidateStore(bench / "candidates.jsonl").append([
        Record(key, name, "k1-t0", 0, "...", 20, 0.5, 0.5, None, passed=True)
        for key in ARITHMETIC for name in ("qwen-small", "qwen-large")
    ])
    memory = tmp_path / "router-memory.jsonl"
    built = run_cli("router", "build", "--from", str(bench), "--problems", str(problems), "--no-feedback",
                    "--out", str(memory))
    assert built.returncode == 0, built.stderr
    assert "4 past request(s), members qwen-large, qwen-small" in built.stdout.replace("\n", " ")
    entries = [json.loads(line) for line in memory.read_text().splitlines()]
    assert len(entries) == 4 and all(len(e["embedding"]) == 384 for e in entries)

    result = generate_add("route", qwens_config)
    events = result["trace"]["events"]
    assert events[0].startswith("3 nearest of 4 past requests, similarity ")
    assert events[1].startswith("score = 1 × P − cost / dearest: qwen-small P 1.00, cost 0.64")
    assert "routed to qwen-small" in events
    assert [c["member"] for c in result["trace"]["calls"]] == ["qwen-small"]
    assert result["trace"]["stop_reason"].startswith("routed to qwen-small (P = 1.00")
    assert "def add" in result["text"]


def test_logit_fusion_mixes_the_two_qwens_token_by_token(installed_models, qwens_config):
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--strategy", "logit-fusion", "--max-tokens", "24", "--config", str(qwens_config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    [call] = result["trace"]["calls"]
    assert call["member"] == "qwen-large+qwen-small" and call["error"] is None
    assert call["prompt_kind"] == "fim" and 0 < call["tokens"] <= 24
    events = result["trace"]["events"]
    assert events[0] == "mixing qwen-large, qwen-small token by token (weight temperature 1)"
    [weights] = [e for e in events if e.startswith("weights from prompt perplexity: ")]
    shares = [float(part.split("→ ")[1]) for part in weights.split(": ", 1)[1].split(", ")]
    assert "qwen-large PPL " in weights and "qwen-small PPL " in weights
    assert abs(sum(shares) - 1.0) < 0.02 and all(0 < s < 1 for s in shares)
    assert "values" in result["text"] and "def median" not in result["text"]
    assert result["candidates"][0]["checks"]["syntax"] is True
    assert result["trace"]["stop_reason"] == "fused token by token: qwen-large+qwen-small"


def test_logit_fusion_refuses_members_with_different_vocabularies(installed_models, tmp_path):
    config = tmp_path / "codequorum.toml"
    config.write_text('[strategies.logit-fusion]\nmembers = ["qwen-small", "smollm2"]\n')
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--strategy", "logit-fusion", "--max-tokens", "8", "--config", str(config), "--json")
    assert done.returncode == 1, done.stderr  # no answer: the CLI still prints the result
    result = json.loads(done.stdout)
    assert result["candidates"] == []
    [call] = result["trace"]["calls"]
    assert "logit-fusion cannot mix qwen-small, smollm2" in call["error"]
    assert "their vocabularies differ" in call["error"]
    assert "gave no answer: MemberError: logit-fusion cannot mix" in result["trace"]["stop_reason"]
