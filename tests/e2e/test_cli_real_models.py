"""The CLI main job through the real llama.cpp models (Qwen2.5-Coder-0.5B, SmolLM2-135M)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codequorum.stores.verified import VerifiedLog
from tests.e2e.conftest import ROOT, run_cli

pytestmark = pytest.mark.e2e

TWO_SMALL = """
[engine]
deadline_s = 120
[members.qwen-large]
enabled = false
"""


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    path = tmp_path / "codequorum.toml"
    path.write_text(TWO_SMALL)
    return path


def test_models_list_json_reports_installed_files(installed_models):
    done = run_cli("models", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["qwen2.5-coder-0.5b"]["status"] == "installed"
    assert rows["smollm2-135m"]["bytes"] == 98_362_432
    assert set(rows["smollm2-135m"]) == {"name", "path", "bytes", "sha256", "status"}


def test_complete_single_small_qwen_fills_the_function_body(installed_models, small_config):
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--strategy", "single", "--member", "qwen-small", "--max-tokens", "40",
                   "--config", str(small_config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["strategy"] == "single"
    assert "values" in result["text"] and "def median" not in result["text"]
    [call] = result["trace"]["calls"]
    assert call["member"] == "qwen-small" and call["error"] is None and call["tokens"] > 0
    assert result["candidates"][0]["checks"]["syntax"] is True


def test_complete_best_of_asks_every_member_and_ranks(installed_models, small_config):
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--strategy", "best-of", "--max-tokens", "40", "--config", str(small_config),
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {c["member"] for c in result["trace"]["calls"]} == {"qwen-small", "smollm2"}
    assert len(result["candidates"]) == 2
    assert result["text"] == result["candidates"][0]["text"]
    scores = [c["score"] for c in result["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_complete_prints_a_readable_summary(installed_models, small_config):
    done = run_cli("complete", "examples/stats.py", "--line", "6", "--column", "5",
                   "--member", "qwen-small", "--max-tokens", "24", "--config", str(small_config))
    assert done.returncode == 0, done.stderr
    assert "candidates" in done.stdout and "qwen-small" in done.stdout


def test_generate_with_visible_tests(installed_models, tmp_path):
    config, log = tmp_path / "codequorum.toml", tmp_path / "kept" / "verified.jsonl"
    config.write_text(TWO_SMALL + f'[distill]\nverified_log = "{log}"\n')
    done = run_cli("generate", "--instruction", "Write a Python function add(a, b) that returns a + b.",
                   "--tests-file", str(ROOT / "examples/add_tests.py"), "--strategy", "single",
                   "--member", "qwen-small", "--max-tokens", "80", "--config", str(config),
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "def add" in result["text"]
    assert "```" not in result["text"]
    # the visible tests ran in the sandbox against the candidate
    assert result["candidates"][0]["checks"]["tests"] == {"passed": 3, "failed": 0}
    # so the answer is kept for `codequorum distill`, with the request it answered
    [kept] = VerifiedLog(log).entries()
    assert (kept.kind, kept.member, kept.answer) == ("generate", "qwen-small", result["candidates"][0]["text"])
    assert kept.tests == (ROOT / "examples/add_tests.py").read_text()


def test_generate_defaults_to_the_measured_cascade_without_smollm2(installed_models, small_config):
    """No --strategy, no --member: the [engine] default (the cascade) over the members with
    `generate = true`; smollm2, enabled but `generate = false`, is not asked."""
    done = run_cli("generate", "--instruction", "Write a Python function add(a, b) that returns a + b.",
                   "--tests-file", str(ROOT / "examples/add_tests.py"), "--max-tokens", "80",
                   "--config", str(small_config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["strategy"] == "cascade"
    assert {c["member"] for c in result["trace"]["calls"]} == {"qwen-small"}
    assert result["candidates"][0]["checks"]["tests"] == {"passed": 3, "failed": 0}


def test_corrupt_model_file_is_refused_with_the_fix(tmp_path: Path):
    cache = tmp_path / "models"
    cache.mkdir()
    (cache / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF" + b"\0" * 1000)
    config = tmp_path / "c.toml"
    config.write_text(f'[models]\ncache_dir = "{cache}"\n')
    done = run_cli("generate", "-i", "hello", "--member", "smollm2", "--config", str(config), "--json")
    assert done.returncode == 1
    [call] = json.loads(done.stdout)["trace"]["calls"]
    assert "integrity check" in call["error"] and "models install --force smollm2-135m" in call["error"]


def test_bad_config_names_file_and_key(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("[engine]\ndeadline_s = -3\n")
    done = run_cli("complete", "examples/stats.py", "-l", "6", "-c", "5", "--config", str(config))
    assert done.returncode == 2
    assert str(config) in done.stderr and "engine.deadline_s" in done.stderr
    assert "Traceback" not in done.stderr


def test_cursor_outside_the_file_is_a_clear_error():
    done = run_cli("complete", "examples/stats.py", "--line", "999", "--column", "1")
    assert done.returncode == 2 and "line 999 is outside the file" in done.stderr


def test_best_of_with_generated_tests_scores_dual_agreement(installed_models, tmp_path: Path):
    config = tmp_path / "codet.toml"
    config.write_text(TWO_SMALL + '[strategies.best-of]\ngenerated_tests = "qwen-small"\n')
    instruction = ("def is_palindrome(text: str) -> bool:\n"
                   '    """Whether text reads the same backwards, ignoring case."""\n')
    done = run_cli("generate", "--instruction", instruction, "--strategy", "best-of",
                   "--max-tokens", "96", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert any("usable test(s)" in event for event in result["trace"]["events"])
    writers = [c for c in result["trace"]["calls"] if c["member"] == "qwen-small"]
    assert len(writers) == 2  # one candidate, one set of tests
    scored = [c for c in result["candidates"] if "generated_tests" in c["checks"]]
    assert scored and all("dual_agreement" in c["scores"] for c in scored)
