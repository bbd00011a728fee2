"""The shipped defaults and how a strategy is chosen: specs (NAME:key=value...), their precedence,
the members asked for generation, and answers that are empty."""

from __future__ import annotations

import pytest

from codequorum.config import (
    DEFAULT_STRATEGY,
    find_config_file,
    parse_strategy_spec,
    settings_from_dict,
)
from codequorum.core.engine import Engine
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers")


def test_the_default_is_the_measured_cascade_and_smollm2_answers_completions_only():
    settings = settings_from_dict({}, source="defaults")
    assert settings.engine.strategy == DEFAULT_STRATEGY == "cascade:samples=1:probes=6:resample=3:repair=2"
    assert settings.resolve_strategy(None) == ("cascade", {"samples": 1, "probes": 6, "resample": 3, "repair": 2})
    assert settings.generation_members() == ["qwen-large", "qwen-small"]
    assert settings.members["smollm2"].enabled and not settings.members["smollm2"].generate
    assert settings.server.inline_strategy == "confidence"


def test_a_spec_parses_json_values_and_refuses_a_pair_without_a_value():
    assert parse_strategy_spec("vote") == ("vote", {})
    assert parse_strategy_spec(" cascade:samples=1:threshold=0.5:fuser=qwen ") == (
        "cascade", {"samples": 1, "threshold": 0.5, "fuser": "qwen"})
    with pytest.raises(ConfigError, match="expected NAME"):
        parse_strategy_spec("cascade:samples")
    with pytest.raises(ConfigError, match="invalid configuration"):
        settings_from_dict({"engine": {"strategy": "cascade:=1"}}, source="test")


def test_the_table_overrides_the_default_spec_and_a_given_spec_overrides_the_table():
    settings = settings_from_dict({"engine": {"strategy": "cascade:samples=1:repair=2"},
                                   "strategies": {"cascade": {"repair": 0, "threshold": 0.5}}}, source="t")
    assert settings.resolve_strategy(None) == ("cascade", {"samples": 1, "repair": 0, "threshold": 0.5})
    assert settings.resolve_strategy("cascade:repair=1") == ("cascade", {"repair": 1, "threshold": 0.5})
    assert settings.resolve_strategy("cascade") == ("cascade", {"repair": 0, "threshold": 0.5})


def test_generation_members_fall_back_to_every_enabled_member():
    only_off = settings_from_dict({"include_default_members": False, "members": {
        "a": {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m", "generate": False}}},
        source="t")
    assert only_off.generation_members() == ["a"]


async def test_the_engine_runs_a_spec_with_its_options():
    ScriptedBackend.params.clear()
    engine = Engine(scripted_settings({"m": {"options": {"replies": ["x = 1"]}}}), scripted_registry())
    result = await engine.run(REQUEST, strategy="single:samples=2:temperature=0.5")
    assert result.trace.strategy == "single" and len(result.candidates) == 2
    assert ScriptedBackend.params[-1].n == 2 and ScriptedBackend.params[-1].temperature == 0.5


async def test_an_empty_answer_never_wins():
    engine = Engine(scripted_settings({"strong": {"quality": 0.9, "options": {"replies": ["   \n"]}},
                                       "weak": {"quality": 0.1, "options": {"replies": ["x = 1"]}}}),
                    scripted_registry())
    result = await engine.run(REQUEST, strategy="best-of")
    assert [c.member for c in result.candidates] == ["weak"] and result.text.strip() == "x = 1"
    assert "left out 1 empty answer(s) (strong)" in result.trace.events
    nothing = await Engine(scripted_settings({"m": {"options": {"replies": [""]}}}), scripted_registry()).run(
        REQUEST, strategy="single")
    assert nothing.candidates == [] and nothing.text == ""


def test_codequorum_config_naming_a_missing_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEQUORUM_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="CODEQUORUM_CONFIG names .*nope.toml, which does not exist"):
        find_config_file()
    present = tmp_path / "c.toml"
    present.write_text("")
    monkeypatch.setenv("CODEQUORUM_CONFIG", str(present))
    assert find_config_file() == present
