"""`codequorum bench calibrate` over a small hand-made collection (replay only: no model runs)."""

import json
from dataclasses import asdict

from typer.testing import CliRunner

from codequorum.bench.replay import StrategyRun
from codequorum.cli.app import app
from codequorum.vocabulary.records import Record

RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
CONFIG = """
include_default_members = false
[members.cheap]
backend = "llama-cpp"
path = "/nonexistent/cheap.gguf"
quality = 0.5
price_per_1k_tokens = 10
[members.dear]
backend = "llama-cpp"
path = "/nonexistent/dear.gguf"
quality = 0.8
price_per_1k_tokens = 30
[plugins]
disabled = ["checks.syntax", "checks.tests"]
"""


def collection(tmp_path):
    """Two problems: the cheap member's samples agree and are right on p1, disagree on p2."""
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(json.dumps({
        "id": pid, "prompt": 'def add(a, b):\n    """a + b"""\n',
        "tests": "def check(f):\n    assert f(1, 2) == 3\n", "entry_point": "add"}) + "\n"
        for pid in ("p1", "p2")))
    samples = {("p1", "cheap"): [RIGHT] * 3, ("p2", "cheap"): [RIGHT, WRONG, WRONG + "\n# x\n"],
               ("p1", "dear"): [RIGHT] * 3, ("p2", "dear"): [RIGHT] * 3}
    records = []
    for (pid, member), texts in samples.items():
        records.append(Record(pid, member, "k1-t0", 0, texts[0], 20, 1.0, 0.2, -0.1, passed=texts[0] == RIGHT))
        records += [Record(pid, member, "k3-t0.6", i, text, 20, 1.0, 0.2, -0.1, passed=text == RIGHT)
                    for i, text in enumerate(texts)]
    out = tmp_path / "bench"
    out.mkdir()
    (out / "candidates.jsonl").write_text("".join(json.dumps(asdict(r)) + "\n" for r in records))
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG)
    return suite, out, config


def test_calibrate_recommends_the_cheapest_threshold_that_reaches_the_goal(tmp_path):
    suite, out, config = collection(tmp_path)
    result = CliRunner().invoke(app, [
        "bench", "calibrate", "--out", str(out), "--file", str(suite), "--config", str(config),
        "--thresholds", "0.5,1.0", "--reference", "best-of"])
    assert result.exit_code == 0, result.output
    assert "cascade threshold=0.5" in result.output and "cascade threshold=1.0" in result.output
    # at 0.5 the cheap member's wrong majority (2 of 3, the same code but a comment) is accepted
    assert "[strategies.cascade]\nthreshold = 1.0" in result.output


def test_a_strategy_spec_carries_typed_options():
    run = StrategyRun.parse("cascade:threshold=0.5:samples=3:fuser=qwen-large")
    assert (run.label, run.name) == ("cascade:threshold=0.5:samples=3:fuser=qwen-large", "cascade")
    assert run.options == {"threshold": 0.5, "samples": 3, "fuser": "qwen-large"}


def test_calibrate_without_sampled_answers_says_what_to_collect(tmp_path):
    suite, out, config = collection(tmp_path)
    store = out / "candidates.jsonl"
    greedy = [line for line in store.read_text().splitlines() if '"k1-t0"' in line]
    store.write_text("\n".join(greedy) + "\n")
    result = CliRunner().invoke(app, ["bench", "calibrate", "--out", str(out), "--file", str(suite),
                                      "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "greedy answers only" in result.output
    assert "collect with `--samples 3 --temperature 0.6` first" in " ".join(result.output.split())
    assert "ReplayMiss" not in result.output and "no threshold reaches" not in result.output
