import pytest

from codequorum.bench.problems import Problem
from codequorum.bench.replay import ReplayMiss, ReplayPool, _replayable, replay
from codequorum.config import settings_from_dict
from codequorum.core.registry import Registry
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.records import Record, Setting

PROBLEM = Problem("p1", 'def add(a, b):\n    """a + b"""\n', "def check(f):\n    assert f(1, 2) == 3\n", "add")
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


def record(member, setting, index, text, passed, seconds=2.0):
    return Record("p1", member, setting, index, text, 10, seconds, 0.3, -0.2, passed=passed)


SAMPLED = Setting(3, 0.6)


def pool(sampled=SAMPLED):
    return ReplayPool.of([
        record("strong", "k1-t0", 0, WRONG, False),
        record("weak", "k1-t0", 0, RIGHT, True),
        *(record("strong", "k3-t0.6", i, text, text == RIGHT)
          for i, text in enumerate([RIGHT, RIGHT, WRONG])),
    ], sampled)


def test_greedy_calls_get_the_greedy_answer_every_time():
    replayed = pool()
    replayed.start("p1")
    assert [r.text for r in replayed.take("strong", 1, 0.0)] == [WRONG]
    assert [r.text for r in replayed.take("strong", 1, 0.0)] == [WRONG]


def test_sampled_calls_take_the_next_unused_samples_and_run_out():
    replayed = pool()
    replayed.start("p1")
    assert [r.index for r in replayed.take("strong", 2, 0.6)] == [0, 1]
    assert [r.index for r in replayed.take("strong", 1, 0.6)] == [2]
    with pytest.raises(ReplayMiss, match="has 3 samples"):
        replayed.take("strong", 1, 0.6)
    replayed.start("p1")  # each problem starts from the first sample again
    assert replayed.take("strong", 1, 0.6)[0].index == 0


def test_samples_at_another_temperature_than_collected_are_a_clear_miss():
    replayed = pool()
    replayed.start("p1")
    with pytest.raises(ReplayMiss, match="at temperature 0.8; the collection's samples are at 0.6"):
        replayed.take("strong", 1, 0.8)


def test_sampling_without_a_sampled_setting_is_a_clear_miss():
    replayed = pool(sampled=None)
    replayed.start("p1")
    with pytest.raises(ReplayMiss, match="no sampled setting"):
        replayed.take("strong", 1, 0.6)


def settings():
    return settings_from_dict({
        "include_default_members": False,
        "members": {"strong": {"backend": "llama-cpp", "path": "/nonexistent/strong.gguf", "quality": 0.9,
                               "price_per_1k_tokens": 30},
                    "weak": {"backend": "llama-cpp", "path": "/nonexistent/weak.gguf", "quality": 0.5,
                             "price_per_1k_tokens": 10}},
        "plugins": {"disabled": ["checks.syntax", "checks.tests"]},
        "ranking": {"listwise": False},
    }, "test")


async def test_strategies_replay_through_the_engine_with_the_stored_outcomes_and_costs():
    outcomes = await replay(settings(), pool(), [PROBLEM], ["strong", "weak"], ["single", "best-of"],
                            SandboxLimits())
    single, best_of = outcomes
    assert (single.strategy, single.passed, single.member_calls) == ("single", False, 1)
    assert single.compute_seconds == 2.0 and single.cost == pytest.approx(10 * 30 / 1000)
    assert (best_of.member_calls, best_of.compute_seconds) == (2, 4.0)
    assert best_of.error is None


async def test_a_strategy_asking_more_than_the_pool_holds_is_reported_as_missed():
    outcomes = await replay(settings(), pool(), [PROBLEM], ["strong"], ["vote"], SandboxLimits())
    # vote asks 3 samples; the pool has 3 for strong: served. A second vote round would miss.
    assert outcomes[0].error is None and outcomes[0].member_calls == 1
    missing = await replay(settings(), pool(sampled=Setting(9, 0.6)), [PROBLEM], ["strong"], ["vote"],
                           SandboxLimits())
    assert "ReplayMiss" in missing[0].error and not missing[0].passed


def test_prompts_the_collection_did_not_answer_are_told_apart():
    from codequorum.bench.collect import request_for
    from codequorum.core.prompts import build_prompt
    from codequorum.vocabulary.generation import ChatMessage, Prompt

    replayed = pool()
    request = request_for(PROBLEM, 64, None)
    replayed.start("p1", request, [None, "qwen"])
    assert replayed.collected(build_prompt(request, None))
    assert replayed.collected(build_prompt(request, "qwen", use_fim=True))
    aggregation = Prompt("chat", messages=(ChatMessage("user", "combine these answers: ..."),))
    assert not replayed.collected(aggregation)


def test_only_strategies_that_step_the_models_themselves_run_live():
    registry = Registry()
    assert not _replayable(registry, "logit-fusion")
    assert all(_replayable(registry, name) for name in ("single", "vote", "cascade", "fuse", "moa"))
    assert _replayable(registry, "no-such-strategy")  # the engine reports it on every problem



class ScriptedOnDemand:
    """Collects a cell by appending scripted records, as OnDemand appends generated ones."""

    def __init__(self, texts):
        self.texts, self.asked = texts, []

    async def collect(self, problem, member):
        self.asked.append((problem, member))
        return [record(member, "k3-t0.6", i, text, text == RIGHT, seconds=5.0)
                for i, text in enumerate(self.texts)]

    async def aclose(self):
        pass


async def test_samples_never_collected_are_collected_on_demand_once_per_cell():
    greedy_only = ReplayPool.of([record("strong", "k1-t0", 0, WRONG, False)], Setting(3, 0.6))
    collector = ScriptedOnDemand([WRONG, RIGHT, RIGHT])
    outcomes = await replay(settings(), greedy_only, [PROBLEM], ["strong"], ["single", "vote", "vote"],
                            SandboxLimits(), on_demand=collector)
    single, vote, again = outcomes
    assert collector.asked == [("p1", "strong")]  # greedy single asked nothing; vote once
    assert (single.passed, vote.passed, again.passed) == (False, True, True)
    assert vote.error is None and vote.compute_seconds == 15.0  # as measured when collected


async def test_nothing_is_collected_on_demand_for_samples_at_another_temperature():
    greedy_only = ReplayPool.of([record("strong", "k1-t0", 0, WRONG, False)], SAMPLED)
    collector = ScriptedOnDemand([RIGHT])
    [outcome] = await replay(settings(), greedy_only, [PROBLEM], ["strong"], ["vote:temperature=0.9"],
                             SandboxLimits(), on_demand=collector)
    assert collector.asked == [] and "samples are at 0.6" in outcome.error


async def test_a_misspelt_spec_option_stops_the_replay_before_any_problem():
    from codequorum.vocabulary.errors import ConfigError

    with pytest.raises(ConfigError, match="cascade: unknown option 'treshold'"):
        await replay(settings(), pool(), [PROBLEM], ["strong"], ["cascade:treshold=0.5"], SandboxLimits())
