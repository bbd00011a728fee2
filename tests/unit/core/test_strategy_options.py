"""Typed strategy options: checked when the settings load, when a request brings its own, and
strategies built once per engine (name + options)."""

from typing import Any, ClassVar

import pytest

from codequorum.core.engine import Engine
from codequorum.plugins.strategies.cascade import CascadeOptions, CascadeStrategy
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import scripted_registry, scripted_settings

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers")
MEMBERS = {"a": {"options": {"replies": ["def f():\n    return 1\n"]}}}


def test_a_misspelt_option_names_the_strategy_and_the_allowed_keys():
    with pytest.raises(ConfigError) as caught:
        CascadeStrategy({"treshold": 0.5})
    message = str(caught.value)
    assert message.startswith("cascade: unknown option 'treshold' (allowed: ")
    assert "threshold" in message and "samples" in message and "resample_batch" in message


def test_options_are_strict():
    with pytest.raises(ConfigError, match="cascade: option 'samples'"):
        CascadeStrategy({"samples": "3"})
    assert CascadeStrategy({"threshold": 1}).threshold == 1.0  # an int is a fine float
    assert CascadeStrategy(CascadeOptions(samples=2)).samples == 2


def test_a_strategy_table_is_checked_when_the_settings_load():
    settings = scripted_settings(MEMBERS, strategies={"cascade": {"treshold": 0.5}})
    with pytest.raises(ConfigError, match="unknown option 'treshold'"):
        Engine(settings, scripted_registry())


def test_a_table_for_no_strategy_is_reported():
    settings = scripted_settings(MEMBERS, strategies={"cascad": {"threshold": 0.5}})
    with pytest.raises(ConfigError, match=r"\[strategies.cascad\]: no strategy plugin named 'cascad'"):
        Engine(settings, scripted_registry())


async def test_a_misspelt_request_option_is_reported_not_raised():
    result = await Engine(scripted_settings(MEMBERS), scripted_registry()).run(
        REQUEST, strategy="vote", options={"sample": 2})
    assert result.candidates == [] and result.trace.calls == []
    assert "vote: unknown option 'sample'" in result.trace.events[0]


async def test_strategies_are_built_once_per_engine_and_options():
    built: list[Any] = []

    class Counting:
        name: ClassVar[str] = "counting"

        def __init__(self, options: dict[str, Any]) -> None:
            built.append(options)  # no Options model: a plain dict, as for third-party plugins

        async def run(self, ctx: Any) -> Any:
            return ctx.result(await ctx.sample_all(ctx.members), "done")

    registry = scripted_registry()
    registry.register("strategies", "counting", Counting)
    engine = Engine(scripted_settings(MEMBERS, strategies={"counting": {"anything": 1}}), registry)
    for _ in range(3):
        assert (await engine.run(REQUEST, strategy="counting")).text
    await engine.run(REQUEST, strategy="counting", options={"anything": 2})
    await engine.run(REQUEST, strategy="counting", options={"anything": 2})
    assert built == [{"anything": 1}, {"anything": 2}]
    assert engine.strategy("cascade", {"samples": 2}) is engine.strategy("cascade", {"samples": 2})


def test_a_broken_strategy_plugin_does_not_stop_the_engine_from_loading():
    class Broken:
        name: ClassVar[str] = "broken"

        def __init__(self, options: dict[str, Any]) -> None:
            raise RuntimeError("cannot start")

    registry = scripted_registry()
    registry.register("strategies", "broken", Broken)
    engine = Engine(scripted_settings(MEMBERS, strategies={"broken": {"x": 1}}), registry)
    assert engine.settings.strategies == {"broken": {"x": 1}}
