"""`codequorum generate` / `complete` as a newcomer meets them: usage errors are refused before any
model runs (exit 2, no tables), and a run without an answer prints no empty tables."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from codequorum.cli.app import app
from codequorum.cli.run import _keep_if_verified
from codequorum.config import settings_from_dict
from codequorum.stores.verified import VerifiedLog
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import Evidence, TestOutcome
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.vocabulary.result import Result, Trace

# A member whose backend is refused at once: a loopback port nothing listens on.
UNREACHABLE = """
include_default_members = false
[members.remote]
backend = "openai"
base_url = "http://127.0.0.1:{port}/v1"
model = "m"
retries = 0
connect_timeout_s = 1
[plugins]
disabled = ["checks.syntax", "checks.tests"]
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.delenv("CODEQUORUM_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:  # a free port, closed again: connecting to it is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "codequorum.toml"
    path.write_text(UNREACHABLE.format(port=port))
    return path


def generate(*args: str):
    return CliRunner().invoke(app, ["generate", *args])


@pytest.mark.parametrize("args, says", [
    (["-i", "add two numbers", "--strategy", "bogus"], "unknown strategy 'bogus'"),
    (["-i", "add two numbers", "--strategy", "cascade:sampels=3"], "cascade: unknown option 'sampels' (allowed: "),
    (["-i", "add two numbers", "--strategy", "cascade:samples=abc"], "cascade: option 'samples': Input should be a valid integer"),
    (["-i", "add two numbers", "--strategy", "cascade:samples=0"], "cascade: needs samples >= 1"),
    (["-i", "add two numbers", "--strategy", "cascade:repair=-1"], "0 <= repair"),
    (["-i", "add two numbers", "--strategy", "cascade:x"], "expected NAME[:key=value...]"),
    (["-i", "add two numbers", "--member", "nobody"], "unknown member(s) nobody"),
    (["-i", ""], "the instruction is empty"),
    (["-i", "   \n"], "the instruction is empty"),
])
def test_usage_errors_exit_2_before_any_model_runs_and_print_no_table(config, args, says):
    result = generate(*args, "--config", str(config))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "candidates" not in result.output and "member calls" not in result.output


def test_a_bad_option_in_the_strategy_table_is_refused_too(config):
    config.write_text(config.read_text() + "[strategies.vote]\nsampels = 2\n")
    result = generate("-i", "add two numbers", "--strategy", "vote", "--config", str(config))
    assert result.exit_code == 2 and "vote: unknown option 'sampels'" in result.output


def test_codequorum_config_naming_a_missing_file_is_an_error(config, monkeypatch, tmp_path):
    monkeypatch.setenv("CODEQUORUM_CONFIG", str(tmp_path / "missing.toml"))
    result = generate("-i", "add two numbers")
    assert result.exit_code == 2
    assert "CODEQUORUM_CONFIG names" in result.output and "missing.toml" in result.output


def test_no_answer_shows_the_calls_and_no_empty_tables(config):
    result = generate("-i", "add two numbers", "--strategy", "best-of", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert "member calls" in result.output and "remote" in result.output
    assert "no candidate" not in result.output and "candidates" not in result.output
    assert "error: no answer" in result.output
    assert result.output.count("ConnectError") + result.output.count("onnect") >= 1
    assert "WARNING" not in result.output  # the failure is in the trace, not also a log line


def test_complete_refuses_an_unknown_strategy_before_reading_models(config, tmp_path):
    source = tmp_path / "a.py"
    source.write_text("def f():\n    \n")
    result = CliRunner().invoke(app, ["complete", str(source), "-l", "2", "-c", "5",
                                      "--strategy", "nope", "--config", str(config)])
    assert result.exit_code == 2 and "unknown strategy 'nope'" in result.output


def test_complete_with_a_member_asks_that_member_alone(config, tmp_path):
    source = tmp_path / "f.py"
    source.write_text("def f():\n    \n")
    done = CliRunner().invoke(app, ["complete", str(source), "-l", "2", "-c", "5", "--member", "remote",
                                    "--json"])
    assert "unknown option" not in done.output  # not the inline default's options, `single`'s
    assert '"strategy": "single"' in done.output, done.output


def _result(tests: TestOutcome | None, syntax: bool | None = True) -> Result:
    best = Candidate("qwen-large", "def add(a, b):\n    return a + b\n", "chat",
                     evidence=Evidence(syntax=syntax, tests=tests))
    return Result(best.text, "single", [best], Trace("single"))


@pytest.mark.parametrize(("tests", "syntax", "visible", "kept"), [
    (TestOutcome(3, 0), True, "assert add(1, 2) == 3\n", True),
    (TestOutcome(2, 1), True, "assert add(1, 2) == 3\n", False),  # a visible test failed
    (TestOutcome(3, 0), False, "assert add(1, 2) == 3\n", False),  # broken syntax
    (None, True, "assert add(1, 2) == 3\n", False),  # the tests never ran
    (TestOutcome(1, 0), True, None, False),  # only the docstring's examples: no --tests-file
])
def test_generate_keeps_only_an_answer_its_visible_tests_passed_in_the_sandbox(tmp_path, tests, syntax, visible, kept):
    log = tmp_path / "verified.jsonl"
    settings = settings_from_dict({"distill": {"verified_log": str(log)}}, "t")
    request = Request(TaskKind.GENERATE, language="python", instruction="add two numbers", tests=visible)
    _keep_if_verified(settings, request, _result(tests, syntax))
    entries = list(VerifiedLog(log).entries())
    assert len(entries) == int(kept)
    if kept:
        assert (entries[0].kind, entries[0].member, entries[0].tests) == ("generate", "qwen-large", visible)
        assert entries[0].answer == "def add(a, b):\n    return a + b\n"
