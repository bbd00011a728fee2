"""The strategy toolkit: the budget outlook, the ask-every-member prologue and hand-overs."""

import pytest

from codequorum.config import MemberConfig
from codequorum.core.context import StrategyContext
from codequorum.core.engine import Engine
from codequorum.core.member import Member
from codequorum.core.toolkit import Turn, hand_over, outlook, turn_outlook
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.vocabulary.result import Trace
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers", max_tokens=100)


def member(name: str, price: float) -> Member:
    config = MemberConfig.model_validate({"name": name, "backend": "scripted", "price_per_1k_tokens": price})
    return Member(config=config, backend=ScriptedBackend(config, None))


def answered(tokens: int) -> Candidate:
    return Candidate(member="m", text="x", prompt_kind="chat", tokens=tokens)


def test_the_outlook_costs_each_member_answers_as_long_as_those_seen():
    cheap, dear = member("cheap", 10.0), member("dear", 30.0)
    seen = [answered(100), answered(300)]
    assert outlook([cheap], 3, seen, seconds=2.0).cost == pytest.approx(cheap.cost_of(600))
    assert outlook([cheap, dear], 1, seen, seconds=2.0).cost == pytest.approx(cheap.cost_of(200) + dear.cost_of(200))
    assert outlook([dear], 2, [], seconds=1.0, unseen_tokens=50).cost == pytest.approx(dear.cost_of(100))
    assert outlook([dear], 2, [], seconds=1.0).seconds == 1.0


def test_a_dearer_turn_takes_longer_by_price_and_by_samples():
    cheap, dear = member("cheap", 10.0), member("dear", 30.0)
    ctx = StrategyContext(request=REQUEST, members=[cheap, dear], checks=[], trace=Trace("cascade"))
    previous = Turn(cheap, 3, [], [], 0.0, seconds=2.0, next_seed=3)
    assert turn_outlook(ctx, dear, previous, 3).seconds == pytest.approx(6.0)
    assert turn_outlook(ctx, dear, previous, 6).seconds == pytest.approx(12.0)
    assert turn_outlook(ctx, cheap, previous, 1).seconds == pytest.approx(2.0)  # never below the last
    assert turn_outlook(ctx, dear, previous, 3).cost == pytest.approx(dear.cost_of(300))  # unseen: max_tokens


async def test_a_context_without_the_engine_cannot_hand_over():
    ctx = StrategyContext(request=REQUEST, members=[], checks=[], trace=Trace("route"))
    with pytest.raises(ConfigError, match="cannot hand over to cascade"):
        await hand_over(ctx, "cascade", {})


def test_a_hand_over_is_checked_when_the_settings_load():
    members = {"a": {"options": {"replies": ["def f():\n    return 1\n"]}}}
    settings = scripted_settings(members, strategies={"route": {"cascade": {"treshold": 0.5}}})
    with pytest.raises(ConfigError, match="cascade: unknown option 'treshold'"):
        Engine(settings, scripted_registry())


async def test_every_member_failing_is_said_once_for_every_strategy_that_asks_them_all():
    members = {"a": {"options": {"fail": "down"}}, "b": {"options": {"fail": "down"}}}
    engine = Engine(scripted_settings(members), scripted_registry())
    for strategy in ("best-of", "vote", "rank", "fuse"):
        result = await engine.run(REQUEST, strategy=strategy)
        assert result.trace.stop_reason == "every member failed", strategy
        assert result.trace.events[0].startswith("asking every member (a, b) for "), strategy
