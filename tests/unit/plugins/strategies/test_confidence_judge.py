"""`confidence` with `judge`: every member answers, a member's model scores the snippets."""

import pytest

from codequorum.core.engine import Engine
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.generation import SnippetScore
from codequorum.plugins.strategies.confidence import ConfidenceStrategy
from codequorum.vocabulary.request import Budget, completion_request
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings
from tests.unit.plugins.strategies.fakes import member, verdicts

REQUEST = completion_request("def f(x):\n    ", len("def f(x):\n    "), language="python")


class ScoringBackend(ScriptedBackend):
    """A scripted member whose model also scores snippets: `options.scores` maps a snippet to
    (log-probability sum, tokens, end log-probability); `options.score_fail` raises."""

    scored: list[tuple[str, list[str]]] = []

    def __init__(self, member, runtime) -> None:
        super().__init__(member, runtime)
        self.name = member.name

    async def score(self, prompt, continuations, cancel):
        ScoringBackend.scored.append((self.name, list(continuations)))
        if self.options.get("score_fail"):
            raise RuntimeError(self.options["score_fail"])
        table = self.options.get("scores", {})
        return [SnippetScore(*table.get(text, (-10.0, 1, -1.0))) for text in continuations]


def engine(members, checks=None):
    registry = scripted_registry(disabled=frozenset({"checks.syntax", "checks.tests"}))
    registry.register("backends", "scoring", ScoringBackend)
    if checks is not None:
        registry.register("checks", "verdicts", checks)
    return Engine(scripted_settings(members, ranking={"listwise": False}), registry)


def members(strong_scores=None, cheap_scores=None, strong="return x + 1", cheap="return x",
            cheap_backend="scoring", strong_delay=0.0, **strong_options):
    ScoringBackend.scored = []
    return {
        "cheap": {**member([cheap], price_per_1k_tokens=1.0, quality=0.3,
                           options={"scores": cheap_scores or {}}), "backend": cheap_backend, "fim": "qwen"},
        "strong": {**member([strong], price_per_1k_tokens=5.0, quality=0.9,
                            options={"scores": strong_scores or {}, "delay": strong_delay, **strong_options}),
                   "backend": "scoring", "fim": "qwen"},
    }


STRONGEST = {"judge": "strongest"}


async def test_the_strongest_members_score_picks_the_cheap_snippet_and_the_trace_says_so():
    scores = {"return x": (-0.3, 3, -0.1), "return x + 1": (-2.4, 4, -0.1)}
    result = await engine(members(scores)).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x"
    assert [c.member for c in result.candidates] == ["cheap", "strong"]
    assert ScoringBackend.scored == [("strong", ["return x + 1", "return x"])]  # one call, both snippets
    assert "chosen by strong's score -0.100 vs -0.600 (mean log-probability per token)" in result.trace.stop_reason
    assert [(c.member, c.prompt_kind) for c in result.trace.calls] == [
        ("strong", "fim"), ("cheap", "fim"), ("strong", "score")]


async def test_the_sum_signal_prefers_the_snippet_with_the_higher_total():
    scores = {"return x": (-0.9, 3, -0.1), "return x + 1": (-0.8, 8, -0.1)}  # mean favours "+ 1" too
    assert (await engine(members(scores)).run(REQUEST, strategy="confidence", options=STRONGEST)).text \
        == "return x + 1"
    scores = {"return x": (-0.6, 2, -0.1), "return x + 1": (-1.0, 8, -0.1)}  # mean: "+ 1"; sum: "x"
    result = await engine(members(scores)).run(
        REQUEST, strategy="confidence", options={"judge": "strongest", "judge_by": "sum"})
    assert result.text == "return x"
    assert "(total log-probability)" in result.trace.stop_reason


async def test_a_judge_asked_in_chat_form_does_not_judge():
    config = members({"return x": (-0.1, 3, 0.0)})
    for entry in config.values():
        entry["fim"] = None  # chat prompts: the answer is not the snippet itself
    result = await engine(config).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x + 1" and ScoringBackend.scored == []


async def test_the_end_signal_counts_how_likely_the_model_stops_after_the_snippet():
    scores = {"return x": (-0.2, 2, -6.0), "return x + 1": (-0.6, 4, -0.1)}  # mean: "x"; with end: "+ 1"
    result = await engine(members(scores)).run(
        REQUEST, strategy="confidence", options={"judge": "strongest", "judge_by": "mean-with-end"})
    assert result.text == "return x + 1"


async def test_within_the_margin_the_ladders_choice_stays():
    scores = {"return x": (-0.3, 3, 0.0), "return x + 1": (-0.8, 4, 0.0)}  # -0.1 vs -0.2
    options = {"judge": "strongest", "judge_margin": 0.15}
    result = await engine(members(scores)).run(REQUEST, strategy="confidence", options=options)
    assert result.text == "return x + 1"
    assert "chosen by strong's score -0.200 vs -0.100, the other not better by more than the margin 0.15" \
        in result.trace.stop_reason
    options["judge_margin"] = 0.05
    assert (await engine(members(scores)).run(REQUEST, strategy="confidence", options=options)).text == "return x"


async def test_all_judges_sum_their_scores_a_product_of_experts():
    strong = {"return x": (-1.0, 2, 0.0), "return x + 1": (-0.8, 2, 0.0)}  # strong alone: "+ 1"
    cheap = {"return x": (-0.2, 2, 0.0), "return x + 1": (-1.6, 2, 0.0)}
    result = await engine(members(strong, cheap)).run(REQUEST, strategy="confidence", options={"judge": "all"})
    assert result.text == "return x"
    assert "the summed scores of strong, cheap -0.600 vs -1.200" in result.trace.stop_reason
    assert [name for name, _ in ScoringBackend.scored] == ["strong", "cheap"]


async def test_a_member_that_cannot_score_is_no_judge_and_the_ladders_choice_stands():
    config = members()
    config["strong"]["backend"] = "scripted"  # e.g. an OpenAI-compatible server: no scoring
    config["cheap"]["backend"] = "scripted"
    result = await engine(config).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x + 1"
    assert "the ladder's choice, unjudged" in result.trace.stop_reason
    assert any("no member asked can score snippets" in e for e in result.trace.events)


async def test_without_scoring_the_strongest_remaining_judge_is_used():
    scores = {"return x": (-0.2, 2, 0.0), "return x + 1": (-3.0, 2, 0.0)}
    config = members(cheap_scores=scores)
    config["strong"]["backend"] = "scripted"
    result = await engine(config).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x" and "chosen by cheap's score" in result.trace.stop_reason


async def test_a_failed_judge_is_in_the_trace_and_the_ladders_choice_stands():
    result = await engine(members(score_fail="out of memory")).run(
        REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x + 1"
    [call] = [c for c in result.trace.calls if c.prompt_kind == "score"]
    assert call.error == "RuntimeError: out of memory"
    assert any("strong could not score the snippets" in e for e in result.trace.events)


async def test_the_same_snippet_from_both_members_needs_no_judge():
    result = await engine(members(cheap="return x + 1")).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x + 1" and ScoringBackend.scored == []
    assert any("nothing to judge" in e for e in result.trace.events)


async def test_only_usable_snippets_are_judged():
    checks = verdicts({"return x": {"syntax": False}, "return x + 1": {"syntax": True}})
    scores = {"return x": (-0.1, 3, 0.0), "return x + 1": (-5.0, 4, 0.0)}
    result = await engine(members(scores), checks).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x + 1" and ScoringBackend.scored == []


async def test_an_empty_snippet_is_never_judged_nor_chosen():
    result = await engine(members(strong="")).run(REQUEST, strategy="confidence", options=STRONGEST)
    assert result.text == "return x" and ScoringBackend.scored == []


async def test_past_the_deadline_no_member_is_asked_for_the_judge():
    request = completion_request("def f(x):\n    ", 14, budget=Budget(deadline_s=0.05, hard_cap_s=5))
    config = members({"return x": (-0.1, 1, 0.0)})
    config["cheap"]["options"]["delay"] = 0.2
    result = await engine(config).run(request, strategy="confidence",
                                      options={"judge": "strongest", "order": "cheapest"})
    assert result.text == "return x"
    assert [c.member for c in result.trace.calls] == ["cheap"]


async def test_without_judge_the_strong_snippet_is_taken_alone_as_shipped():
    result = await engine(members({"return x": (-0.1, 3, 0.0)})).run(REQUEST, strategy="confidence")
    assert result.text == "return x + 1"
    assert [c.member for c in result.trace.calls] == ["strong"] and ScoringBackend.scored == []


def test_judge_options_are_checked():
    with pytest.raises(ConfigError, match="judge"):
        ConfidenceStrategy({"judge": "loudest"})
    with pytest.raises(ConfigError, match="judge_by"):
        ConfidenceStrategy({"judge": "all", "judge_by": "median"})
    with pytest.raises(ConfigError, match="judge_margin"):
        ConfidenceStrategy({"judge": "all", "judge_margin": -1})
