"""`codequorum distill`'s refusals: one clear line, exit 2, before any model is loaded."""

from __future__ import annotations

import json
from dataclasses import asdict

from typer.testing import CliRunner

from codequorum.cli.app import app
from codequorum.vocabulary.records import Record


def run(*args: str):
    return CliRunner().invoke(app, ["distill", *args])


def test_an_unknown_half_or_fusion_is_refused(tmp_path):
    done = run("--problems-half", "middle", "--out", str(tmp_path))
    assert done.exit_code == 2 and "--problems-half 'middle': choose one of even, odd, all" in done.output
    done = run("--fusion", "max", "--out", str(tmp_path))
    assert done.exit_code == 2 and "choose one of min-ce, avg-ce" in done.output


def test_a_collection_without_a_verified_answer_says_what_was_left_out(tmp_path):
    failed = Record("HumanEval/0", "qwen-small", "k1-t0", 0, "def f(): pass", 3, 1.0, 0.0, None,
                    {"prompt_kind": "chat"}, passed=False)
    collection = tmp_path / "collection.jsonl"
    collection.write_text(json.dumps(asdict(failed)) + "\n")
    done = run("--collection", str(collection), "--out", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert "no verified example to train on" in done.output and "1 not verified" in done.output
    assert "Traceback" not in done.output


def test_a_missing_collection_names_the_path(tmp_path):
    done = run("--collection", str(tmp_path / "nothing.jsonl"), "--out", str(tmp_path / "out"))
    assert done.exit_code == 2 and "no collection at" in done.output


def test_an_unknown_form_is_refused(tmp_path):
    done = run("--forms", "chat,diff", "--out", str(tmp_path))
    assert done.exit_code == 2 and "--forms 'diff': choose one of chat, fim" in done.output
    done = run("--forms", ",", "--out", str(tmp_path))
    assert done.exit_code == 2 and "--forms ''" in done.output


def test_fim_examples_need_a_student_with_a_fim_format(tmp_path):
    verified = Record("HumanEval/0", "qwen-small", "k1-t0", 0, "def f(): pass", 3, 1.0, 0.0, None,
                      {"prompt_kind": "chat"}, passed=True)
    collection = tmp_path / "collection.jsonl"
    collection.write_text(json.dumps(asdict(verified)) + "\n")
    config = tmp_path / "config.toml"
    config.write_text('[members.plain]\nbackend = "openai"\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"\n')
    done = run("--collection", str(collection), "--forms", "fim", "--student", "plain", "--config", str(config),
               "--out", str(tmp_path / "out"))
    assert done.exit_code == 2, done.output
    assert "--forms fim: plain has no FIM format" in done.output and "Traceback" not in done.output


def test_the_hint_puts_the_distilled_member_in_the_students_place():
    from codequorum.cli.distill import _inline_members_with
    from codequorum.config import settings_from_dict

    settings = settings_from_dict({"server": {"inline_members": ["qwen-small", "qwen-large"]}}, source="test")
    assert _inline_members_with(settings, "qwen-small", "d") == ["d", "qwen-large"]
    assert _inline_members_with(settings, "other", "d") == ["d", "qwen-small", "qwen-large"]
