import pytest

from codequorum.core.toolkit import Outlook, escalation_blocker, majority_cluster
from codequorum.core.toolkit import passes as passes_checks
from codequorum.plugins.strategies.cascade import CascadeStrategy
from codequorum.ranking.clusters import agreement_score
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.candidate import TestOutcome as Outcome
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.evidence import TestRun
from codequorum.vocabulary.request import Budget, Request, TaskKind
from tests.unit.plugins.strategies.fakes import (
    REQUEST,
    answer,
    engine,
    member,
    verdicts,
)

# ---- the agreement score -------------------------------------------------------------


def cand(text, results=None):
    candidate = Candidate(member="m", text=text, prompt_kind="chat")
    if results is not None:
        candidate.evidence.test_run = TestRun(tuple(results))
    return candidate


def test_agreement_is_the_share_of_samples_in_the_largest_cluster():
    group = [cand(answer(1)), cand(answer(1)), cand(answer(2))]
    assert agreement_score(group, REQUEST, samples=3) == pytest.approx(2 / 3)
    assert agreement_score(group[:2], REQUEST, samples=2) == 1.0


def test_agreement_clusters_by_behaviour_when_tests_ran():
    group = [cand("def f(x):\n    return x*2\n", [True, False]),
             cand("def f(x):\n    return x+x\n", [True, False]),
             cand("def f(x):\n    return x\n", [True, True])]
    assert agreement_score(group, REQUEST, samples=3) == pytest.approx(2 / 3)


def test_failed_and_empty_samples_count_against_agreement():
    assert agreement_score([cand(answer(1))], REQUEST, samples=3) == pytest.approx(1 / 3)
    assert agreement_score([cand(answer(1)), cand(" "), cand("")], REQUEST, samples=3) == pytest.approx(1 / 3)
    assert agreement_score([], REQUEST, samples=3) == 0.0


def test_a_representative_passes_unless_syntax_broke_or_a_test_failed():
    ok, broken, failing, untested = cand("a"), cand("b"), cand("c"), cand("d")
    ok.evidence.syntax, ok.evidence.tests = True, Outcome(3, 0)
    broken.evidence.syntax = False
    failing.evidence.tests = Outcome(2, 1)
    assert passes_checks(ok) and passes_checks(untested)
    assert not passes_checks(broken) and not passes_checks(failing)


# ---- escalation limits -----------------------------------------------------------------


def test_escalation_stops_near_or_after_the_deadline():
    step = Outlook(seconds=2.0, cost=0.0)
    assert escalation_blocker(step, seconds_left=None, spent=0.0, max_cost=None) is None
    assert escalation_blocker(step, seconds_left=5.0, spent=0.0, max_cost=None) is None
    assert "before the deadline" in escalation_blocker(step, seconds_left=1.0, spent=0.0, max_cost=None)
    assert "0.00s left" in escalation_blocker(step, seconds_left=-3.0, spent=0.0, max_cost=None)


def test_escalation_stops_when_the_next_step_would_exceed_max_cost():
    step = Outlook(seconds=0.0, cost=4.0)
    assert escalation_blocker(step, seconds_left=None, spent=5.0, max_cost=10.0) is None
    assert "exceed max_cost 8" in escalation_blocker(step, seconds_left=None, spent=5.0, max_cost=8.0)


# ---- the cascade through the engine ------------------------------------------------------

CHEAP = {"quality": 0.2, "price_per_1k_tokens": 100.0}
DEAR = {"quality": 0.9, "price_per_1k_tokens": 1000.0}


def calls(result):
    return [call.member for call in result.trace.calls]


async def test_the_cheapest_member_is_accepted_when_its_samples_agree():
    eng = engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(REQUEST, strategy="cascade")
    assert calls(result) == ["cheap"]
    assert result.text.strip() == answer(1).strip()
    assert "cheap: 3/3 samples agree by code, s = 1.00, representative passes checks: accepted" \
        in result.trace.events
    assert result.trace.stop_reason == "accepted cheap at agreement 1.00"
    assert result.trace.events[0].startswith("cascade, cheapest first: cheap (100/1k tokens), dear")


async def test_disagreement_escalates_and_all_candidates_are_ranked():
    eng = engine({"cheap": member([answer(1), answer(2), answer(3)], **CHEAP),
                  "dear": member([answer(9)], **DEAR)})
    result = await eng.run(REQUEST, strategy="cascade")
    assert calls(result) == ["cheap", "dear"]
    assert any(e.startswith("cheap: 1/3 samples agree") and e.endswith("escalated")
               for e in result.trace.events)
    assert result.trace.stop_reason == "accepted dear at agreement 1.00"
    assert [c.member for c in result.candidates] == ["dear"] * 3 + ["cheap"] * 3


async def test_an_agreed_answer_that_fails_the_checks_escalates():
    broken = "def f(:"
    eng = engine({"cheap": member([broken], **CHEAP), "dear": member([answer(9)], **DEAR)},
                 checks=verdicts({broken: {"syntax": False}}))
    result = await eng.run(REQUEST, strategy="cascade")
    assert calls(result) == ["cheap", "dear"]
    assert any("s = 1.00, representative fails checks: escalated" in e for e in result.trace.events)
    assert result.text.strip() == answer(9).strip()


async def test_a_failed_test_on_the_majority_escalates():
    checks = verdicts({answer(1).strip(): {"results": [True, False]},
                       answer(9).strip(): {"results": [True, True]}})
    eng = engine({"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)},
                 checks=checks)
    result = await eng.run(REQUEST, strategy="cascade")
    assert calls(result) == ["cheap", "dear"]
    assert any("dear: 3/3 samples agree by behaviour" in e for e in result.trace.events)


async def test_the_last_member_is_taken_whatever_its_agreement():
    eng = engine({"cheap": member([answer(1), answer(2), answer(3)], **CHEAP),
                  "dear": member([answer(7), answer(8), answer(8)], **DEAR)})
    result = await eng.run(REQUEST, strategy="cascade", options={"threshold": 0.9})
    assert calls(result) == ["cheap", "dear"]
    assert result.trace.stop_reason == "last member dear, agreement 0.67"
    assert "dear: 2/3 samples agree by code, s = 0.67, representative passes checks: " \
        "last member, taken as it is" in result.trace.events
    assert [c.text.strip() for c in result.candidates[:2]] == [answer(8).strip()] * 2
    assert len(result.candidates) == 6


async def test_threshold_option_accepts_a_partial_majority():
    eng = engine({"cheap": member([answer(1), answer(1), answer(2)], **CHEAP),
                  "dear": member([answer(9)], **DEAR)})
    strict = await eng.run(REQUEST, strategy="cascade", options={"threshold": 0.9})
    lenient = await engine({"cheap": member([answer(1), answer(1), answer(2)], **CHEAP),
                            "dear": member([answer(9)], **DEAR)}).run(
        REQUEST, strategy="cascade", options={"threshold": 0.5})
    assert calls(strict) == ["cheap", "dear"] and calls(lenient) == ["cheap"]


async def test_a_failing_member_is_escalated_past():
    eng = engine({"cheap": {**CHEAP, "options": {"fail": "down"}}, "dear": member([answer(9)], **DEAR)})
    result = await eng.run(REQUEST, strategy="cascade")
    assert calls(result) == ["cheap", "dear"]
    assert result.text.strip() == answer(9).strip()


async def test_no_escalation_when_the_next_step_would_miss_the_deadline():
    # the cheap step takes ~0.2s; the dear member costs 10x as much, so ~2s: more than is left
    eng = engine({"cheap": member([answer(1), answer(2), answer(3)], options={"delay": 0.2}, **CHEAP),
                  "dear": member([answer(9)], **DEAR)})
    request = Request(TaskKind.GENERATE, instruction="x", budget=Budget(deadline_s=1.0))
    result = await eng.run(request, strategy="cascade")
    assert calls(result) == ["cheap"]
    assert any(e.startswith("not escalating to dear") and "deadline" in e for e in result.trace.events)
    assert result.trace.stop_reason.startswith("stopped escalating")
    assert len(result.candidates) == 3  # the best so far


async def test_no_escalation_when_the_next_step_would_exceed_max_cost():
    # cheap: 3 samples x 3 tokens at 100/1k = 0.9; dear is expected to cost 3 x 3 x 1000/1k = 9
    members = {"cheap": member([answer(1), answer(2), answer(3)], **CHEAP),
               "dear": member([answer(9)], **DEAR)}
    tight = Request(TaskKind.GENERATE, instruction="x", budget=Budget(max_cost=5.0))
    result = await engine(members).run(tight, strategy="cascade")
    assert calls(result) == ["cheap"]
    assert any("would exceed max_cost 5" in e for e in result.trace.events)
    roomy = Request(TaskKind.GENERATE, instruction="x", budget=Budget(max_cost=20.0))
    assert calls(await engine(members).run(roomy, strategy="cascade")) == ["cheap", "dear"]


async def test_a_bad_threshold_is_reported_not_raised():
    result = await engine({"cheap": member([answer(1)])}).run(
        REQUEST, strategy="cascade", options={"threshold": 1.5})
    assert result.candidates == [] and "threshold = 1.5" in result.trace.events[0]


def test_defaults():
    strategy = CascadeStrategy({})
    assert (strategy.samples, strategy.temperature, strategy.threshold) == (3, 0.6, 0.6)


def test_of_equally_large_clusters_the_one_passing_the_checks_is_the_majority():
    failing, passing = cand(answer(1), [False]), cand(answer(2), [True])
    failing.evidence.tests, passing.evidence.tests = Outcome(0, 1), Outcome(1, 0)
    assert majority_cluster([failing, passing], REQUEST) == [passing]
    assert majority_cluster([failing], REQUEST) == [failing]
    assert majority_cluster([cand(" ")], REQUEST) == []


async def test_the_last_members_majority_does_not_lead_when_it_fails_the_checks():
    broken = "def f(:"
    eng = engine({"cheap": member([answer(1), answer(2), answer(3)], **CHEAP),
                  "dear": member([broken], **DEAR)}, checks=verdicts({broken: {"syntax": False}}))
    result = await eng.run(REQUEST, strategy="cascade")
    assert any(e.endswith("fails checks: last member, everything ranked") for e in result.trace.events)
    assert result.best.member == "cheap"  # the ranker puts the broken answer last


async def test_a_lone_answer_is_accepted_only_when_tests_vouch_for_it():
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    untested = await engine(members).run(REQUEST, strategy="cascade", options={"samples": 1})
    assert calls(untested) == ["cheap", "dear"]
    assert any(e.endswith("a lone answer with no tests to vouch for it: escalated") for e in untested.trace.events)
    tested = await engine(members, checks=verdicts({answer(1).strip(): {"results": [True, True]}})).run(
        REQUEST, strategy="cascade", options={"samples": 1})
    assert calls(tested) == ["cheap"] and tested.trace.stop_reason == "accepted cheap at agreement 1.00"


async def test_the_last_member_resamples_only_when_its_answer_fails_the_checks():
    checks = verdicts({answer(1).strip(): {"results": [True, False]},
                       answer(8).strip(): {"results": [True, False]},
                       answer(9).strip(): {"results": [True, True]}})
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(8), answer(9)], **DEAR)}
    result = await engine(members, checks=checks).run(
        REQUEST, strategy="cascade", options={"samples": 1, "resample": 3})
    assert calls(result) == ["cheap", "dear", "dear"]
    assert [c.samples for c in result.trace.calls] == [1, 1, 3]
    assert any(e.endswith("resampling dear 3 times at temperature 0.6") for e in result.trace.events)
    assert result.text.strip() == answer(9).strip()  # 2 of the 3 resamples pass: they lead
    assert result.trace.stop_reason == "resampled dear, 2 candidates pass the checks"


async def test_an_untested_or_passing_last_answer_is_not_resampled():
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    untested = await engine(members).run(REQUEST, strategy="cascade", options={"samples": 1, "resample": 3})
    assert calls(untested) == ["cheap", "dear"]
    assert untested.trace.stop_reason == "last member dear, agreement 1.00"


async def test_resampling_respects_max_cost():
    checks = verdicts({answer(1).strip(): {"results": [False]}, answer(9).strip(): {"results": [False]}})
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    # cheap 0.3 + dear 3 spent; 5 resamples x 3 tokens at 1000/1k = 15 more would exceed 10
    tight = Request(TaskKind.GENERATE, instruction="x", budget=Budget(max_cost=10.0))
    result = await engine(members, checks=checks).run(
        tight, strategy="cascade", options={"samples": 1, "resample": 5})
    assert calls(result) == ["cheap", "dear"]
    assert result.trace.stop_reason.startswith("stopped before resampling (cost spent")


def test_resample_options_are_checked():
    with pytest.raises(ConfigError, match="resample >= 0"):
        CascadeStrategy({"resample": -1})
    with pytest.raises(ConfigError, match="resample_temperature must be above 0"):
        CascadeStrategy({"resample": 2, "resample_temperature": 0})


def test_resample_batch_and_settle_confidence_are_checked():
    with pytest.raises(ConfigError, match="resample_batch >= 0"):
        CascadeStrategy({"resample": 4, "resample_batch": -1})
    with pytest.raises(ConfigError, match="settle_confidence = 0.5"):
        CascadeStrategy({"resample": 4, "settle_confidence": 0.5})
    assert CascadeStrategy({"resample": 4}).resample_batch == 4  # 0: all at once


def fails_then(passing: dict[int, bool]) -> type:
    """Checks where answer(1) and answer(8) fail and answer(k) passes when passing[k]."""
    table = {answer(k).strip(): {"results": [ok]} for k, ok in passing.items()}
    return verdicts({answer(1).strip(): {"results": [False]}, answer(8).strip(): {"results": [False]}, **table})


async def test_resampling_in_batches_stops_once_the_lead_is_settled():
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(8)] + [answer(9)] * 8, **DEAR)}
    result = await engine(members, checks=fails_then({9: True})).run(
        REQUEST, strategy="cascade", options={"samples": 1, "resample": 8, "resample_batch": 2})
    # 2 agreeing passes: 7/8 sure; 4: 31/32 >= 0.95, settled before the 8 were drawn
    assert [c.samples for c in result.trace.calls] == [1, 1, 2, 2]
    assert any(e.endswith("up to 8 times, 2 at a time until the lead is settled, at temperature 0.6")
               for e in result.trace.events)
    assert "resampling settled after 4 samples" in result.trace.events
    assert result.text.strip() == answer(9).strip()


async def test_resampling_in_batches_goes_on_while_two_answers_split_the_votes():
    split = [answer(9), answer(7)] * 4  # untested: clustered by code, two clusters
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(8)] + split, **DEAR)}
    result = await engine(members, checks=fails_then({})).run(
        REQUEST, strategy="cascade", options={"samples": 1, "resample": 8, "resample_batch": 2})
    assert [c.samples for c in result.trace.calls] == [1, 1, 2, 2, 2, 2]
    assert not any("settled" in e for e in result.trace.events if e.startswith("resampling"))


async def test_resampled_seeds_follow_the_samples_already_drawn():
    """Seeds, not only turns, make samples new: a real backend given the same seed again
    repeats its answer."""
    from tests.unit.doubles import ScriptedBackend

    members = {"cheap": member([answer(1)] * 3, **CHEAP), "dear": member([answer(8)] * 3 + [answer(9)] * 4, **DEAR)}
    ScriptedBackend.params.clear()
    await engine(members, checks=fails_then({9: True})).run(
        REQUEST, strategy="cascade", options={"samples": 3, "threshold": 1.0, "resample": 4, "resample_batch": 2})
    assert [p.seed for p in ScriptedBackend.params] == [0, 0, 3, 5]  # cheap's 3, dear's 3 (seeds 0-2), then dear's seeds 3-4 and 5-6


# ---- probes: judging untested answers by what they return --------------------------------


async def test_an_untested_last_answer_another_member_behaves_like_is_taken(probe_values):
    probe_values.update({answer(1).strip(): ["2", "4"], answer(9).strip(): ["2", "4"]})
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    result = await engine(members).run(REQUEST, strategy="cascade",
                                       options={"samples": 1, "probes": 2, "resample": 3})
    assert calls(result) == ["cheap", "dear"]
    assert probe_values["writers"] == ["cheap"]  # the cheapest member writes the calls, once
    assert result.trace.stop_reason == "last member dear, agreement 1.00"
    assert any("1/1 samples agree by probes" in e and e.endswith(
        "taken as it is, another candidate returns the same values on the probes") for e in result.trace.events)


async def test_an_untested_last_answer_nothing_behaves_like_is_resampled(probe_values):
    probe_values.update({answer(1).strip(): ["2", "4"], answer(9).strip(): ["3", "5"],
                         answer(7).strip(): ["2", "4"]})
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9), answer(7), answer(7)], **DEAR)}
    result = await engine(members).run(REQUEST, strategy="cascade",
                                       options={"samples": 1, "probes": 2, "resample": 2})
    assert calls(result) == ["cheap", "dear", "dear"]
    assert any(e.endswith("no other candidate returns the same values on the probes") for e in result.trace.events)
    # cheap's answer and both resamples return the same values: that cluster of three leads
    assert probe_values[result.text.strip()] == ["2", "4"]
    assert result.trace.stop_reason == "resampled dear, 4 candidates pass the checks"
    assert probe_values["writers"] == ["cheap"]


async def test_without_probe_evidence_an_untested_answer_is_taken_as_it_is(probe_values):
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    result = await engine(members).run(REQUEST, strategy="cascade",
                                       options={"samples": 1, "probes": 2, "resample": 3})
    assert calls(result) == ["cheap", "dear"]  # values unknown (None): nothing to disagree with
    assert result.trace.stop_reason == "last member dear, agreement 1.00"


async def test_samples_that_return_the_same_values_agree(probe_values):
    texts = [answer(1), answer(2), answer(3)]
    probe_values.update({t.strip(): ["0"] for t in texts})
    members = {"cheap": member(texts, **CHEAP), "dear": member([answer(9)], **DEAR)}
    result = await engine(members).run(REQUEST, strategy="cascade", options={"probes": 2})
    assert calls(result) == ["cheap"]  # three different texts, one behaviour
    assert result.trace.stop_reason == "accepted cheap at agreement 1.00"


async def test_probes_are_written_only_for_python_generations(probe_values):
    members = {"cheap": member([answer(1)], **CHEAP), "dear": member([answer(9)], **DEAR)}
    rust = Request(TaskKind.GENERATE, language="rust", instruction="add two numbers")
    await engine(members).run(rust, strategy="cascade", options={"samples": 1, "probes": 2})
    completion = Request(TaskKind.COMPLETE, language="python", prefix="def f():\n    return ")
    await engine(members).run(completion, strategy="cascade", options={"samples": 1, "probes": 2})
    assert probe_values["writers"] == []


def test_probe_options_are_checked():
    with pytest.raises(ConfigError, match="probes >= 0"):
        CascadeStrategy({"probes": -1})
