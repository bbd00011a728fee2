import pytest

from codequorum.plugins.strategies.confidence import ConfidenceStrategy
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import Budget, completion_request
from tests.unit.plugins.strategies.fakes import engine, member, verdicts

REQUEST = completion_request("def f(x):\n    ", len("def f(x):\n    "), language="python")
CHEAPEST = {"order": "cheapest", "min_logprob": -0.25}


def ladder(cheap_logprob=-0.5, cheap="return x", strong="return x + 1", strong_delay=0.0, cheap_delay=0.0):
    return {
        "cheap": member([cheap], price_per_1k_tokens=1.0, quality=0.3,
                        options={"logprob": cheap_logprob, "delay": cheap_delay}),
        "strong": member([strong], price_per_1k_tokens=5.0, quality=0.9,
                         options={"logprob": -0.9, "delay": strong_delay}),
    }


async def test_by_default_the_strong_member_answers_alone():
    result = await engine(ladder()).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"
    assert [c.member for c in result.trace.calls] == ["strong"]


async def test_an_empty_strong_snippet_falls_back_to_the_next_member():
    result = await engine(ladder(strong="")).run(REQUEST, strategy="confidence")
    assert result.text == "return x"
    assert any("empty snippet" in event for event in result.trace.events)


async def test_a_strong_snippet_that_breaks_the_syntax_falls_back():
    checks = verdicts({"return x": {"syntax": True}, "return x + 1": {"syntax": False}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence")
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["strong", "cheap"]


async def test_when_every_snippet_breaks_the_syntax_the_strongest_leads():
    checks = verdicts({"return x": {"syntax": False}, "return x + 1": {"syntax": False}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"


async def test_a_strong_snippet_that_fails_the_functions_examples_falls_back():
    checks = verdicts({"return x": {"results": [True, True]}, "return x + 1": {"results": [True, False]}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence")
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["strong", "cheap"]
    assert any("fails 1 of 2 example(s)" in event for event in result.trace.events)
    assert any("passes the checks and its 2 example(s), taken" in event for event in result.trace.events)


async def test_when_every_snippet_fails_its_examples_the_strongest_leads():
    checks = verdicts({"return x": {"results": [False]}, "return x + 1": {"results": [False]}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence")
    assert [c.text for c in result.candidates] == ["return x + 1", "return x"]


async def test_a_snippet_failing_its_examples_still_beats_a_broken_one():
    checks = verdicts({"return x": {"syntax": False}, "return x + 1": {"results": [False]}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"


async def test_cheapest_first_a_confident_cheap_snippet_is_taken_alone():
    result = await engine(ladder(cheap_logprob=-0.1)).run(REQUEST, strategy="confidence", options=CHEAPEST)
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]


async def test_cheapest_first_an_unsure_cheap_member_escalates():
    result = await engine(ladder(cheap_logprob=-0.8)).run(REQUEST, strategy="confidence", options=CHEAPEST)
    assert result.text == "return x + 1"
    assert any("unsure" in event for event in result.trace.events)


async def test_past_the_deadline_a_usable_snippet_is_the_answer():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    result = await engine(ladder(cheap_logprob=-0.8, cheap_delay=0.2)).run(
        request, strategy="confidence", options=CHEAPEST)
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]
    assert any("deadline has passed" in event for event in result.trace.events)


async def test_past_the_deadline_with_nothing_usable_the_next_member_is_still_asked():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    result = await engine(ladder(strong="", strong_delay=0.2)).run(request, strategy="confidence")
    assert result.text == "return x"


async def test_past_the_deadline_a_strong_snippet_the_checks_reject_leaves_the_next_member_time():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    for verdict in ({"syntax": False}, {"results": [True, False]}):
        checks = verdicts({"return x + 1": verdict})
        result = await engine(ladder(strong_delay=0.1, cheap_delay=0.2), checks).run(request, strategy="confidence")
        assert result.text == "return x", verdict
        assert [c.error for c in result.trace.calls] == [None, None]


async def test_past_the_deadline_an_unsure_but_sound_snippet_still_ends_the_cascade():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    checks = verdicts({"return x": {"results": [True]}})
    result = await engine(ladder(cheap_logprob=-0.8, cheap_delay=0.2), checks).run(
        request, strategy="confidence", options=CHEAPEST)
    assert result.text == "return x" and [c.member for c in result.trace.calls] == ["cheap"]


EXAMPLES = 'def f(x):\n    """Add one.\n\n    >>> f(1)\n    2\n    """\n    '
WITH_EXAMPLES = completion_request(EXAMPLES + "\n", len(EXAMPLES), language="python")
VERIFIED = {"order": "cheapest-verified"}


async def test_cheapest_verified_takes_a_cheap_snippet_that_passes_the_functions_examples():
    checks = verdicts({"return x": {"results": [True]}})
    result = await engine(ladder(), checks).run(WITH_EXAMPLES, strategy="confidence", options=VERIFIED)
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]
    assert any("examples verify" in event for event in result.trace.events)


async def test_cheapest_verified_escalates_a_cheap_snippet_that_fails_or_did_not_run_the_examples():
    for verdict, why in (({"results": [False]}, "fails 1 of 1"), ({}, "unverified")):
        checks = verdicts({"return x": verdict})
        result = await engine(ladder(), checks).run(WITH_EXAMPLES, strategy="confidence", options=VERIFIED)
        assert result.text == "return x + 1", verdict
        assert [c.member for c in result.trace.calls] == ["cheap", "strong"]
        assert any(why in event for event in result.trace.events), result.trace.events


async def test_cheapest_verified_takes_the_last_rungs_sound_snippet_unverified():
    checks = verdicts({"return x": {"results": [False]}})
    result = await engine(ladder(), checks).run(WITH_EXAMPLES, strategy="confidence", options=VERIFIED)
    assert [c.text for c in result.candidates] == ["return x + 1", "return x"]


async def test_cheapest_verified_without_examples_asks_the_strongest_first():
    checks = verdicts({"return x": {"results": [True]}})
    result = await engine(ladder(), checks).run(REQUEST, strategy="confidence", options=VERIFIED)
    assert result.text == "return x + 1"
    assert [c.member for c in result.trace.calls] == ["strong"]
    assert any(event.startswith("strongest first") for event in result.trace.events)


def test_options_are_checked():
    with pytest.raises(ConfigError, match="min_logprob, order"):
        ConfidenceStrategy({"min_logprb": -1})
    with pytest.raises(ConfigError, match="log-probability"):
        ConfidenceStrategy({"min_logprob": 0.5})
    with pytest.raises(ConfigError, match="order"):
        ConfidenceStrategy({"order": "random"})
