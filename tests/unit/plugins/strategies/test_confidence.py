import pytest

from codequorum.plugins.strategies.confidence import ConfidenceStrategy
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Budget, completion_request
from tests.unit.plugins.strategies.fakes import engine, member, verdicts

REQUEST = completion_request("def f(x):\n    ", len("def f(x):\n    "), language="python")


def ladder(cheap_logprob: float, cheap="return x", strong="return x + 1", cheap_delay=0.0):
    return {
        "cheap": member([cheap], price_per_1k_tokens=1.0, quality=0.3,
                        options={"logprob": cheap_logprob, "delay": cheap_delay}),
        "strong": member([strong], price_per_1k_tokens=5.0, quality=0.9, options={"logprob": -0.9}),
    }


async def test_a_confident_cheap_snippet_is_taken_without_asking_the_strong_member():
    result = await engine(ladder(-0.1)).run(REQUEST, strategy="confidence")
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]


async def test_an_unsure_cheap_member_escalates_and_the_strong_snippet_leads():
    result = await engine(ladder(-0.8)).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"
    assert [c.member for c in result.trace.calls] == ["cheap", "strong"]
    assert any("unsure" in event for event in result.trace.events)


async def test_a_confident_snippet_that_breaks_the_syntax_escalates():
    checks = verdicts({"return x": {"syntax": False}, "return x + 1": {"syntax": True}})
    result = await engine(ladder(-0.1), checks).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"


async def test_past_the_deadline_the_cheap_snippet_is_the_answer():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    result = await engine(ladder(-0.8, cheap_delay=0.2)).run(request, strategy="confidence")
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]
    assert any("deadline has passed" in event for event in result.trace.events)


def test_options_are_checked():
    with pytest.raises(ConfigError, match="min_logprob"):
        ConfidenceStrategy({"min_logprb": -1})
    with pytest.raises(ConfigError, match="log-probability"):
        ConfidenceStrategy({"min_logprob": 0.5})
