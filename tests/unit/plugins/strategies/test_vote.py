from codequorum.plugins.strategies.vote import VoteStrategy, leading_cluster
from codequorum.vocabulary.candidate import Candidate
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member, verdicts


PLUS = "def add(a, b):\n    return a + b"
SWAPPED = "def add(a, b):\n    return b + a"  # other code, the same behaviour as PLUS
WRONG = "def add(a, b):\n    return a - b"
MINUS = "def add(a, b):\n    return -b + a"  # other code, the same behaviour as WRONG
WORSE = "def add(a, b):\n    return a * b"
ADD_CHECKS = verdicts({PLUS: {"results": [True, True]}, SWAPPED: {"results": [True, True]},
                       WRONG: {"results": [True, False]}, MINUS: {"results": [True, False]},
                       WORSE: {"results": [False, False]}})


def texts(result):
    return [c.text.strip() for c in result.candidates]


async def test_vote_picks_the_leading_cluster_over_the_strongest_member():
    eng = engine({"strong": member([answer(1), answer(2)], quality=0.9),
                  "weak": member([answer(2), answer(3)], quality=0.1)})
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2})
    assert result.text.strip() == answer(2).strip()
    assert texts(result)[:2] == [answer(2).strip()] * 2  # the winning cluster first
    assert len(result.candidates) == 4  # then the alternatives
    assert "clusters by normalised code: 2 (strong, weak), 1 (strong), 1 (weak)" in result.trace.events
    assert "largest cluster: 2 of 4" in result.trace.stop_reason
    assert sorted(call.member for call in result.trace.calls) == ["strong", "weak"]
    assert "asking every member (strong, weak) for 2 sample(s), temperature 0.6" in result.trace.events[0]


async def test_a_tie_in_size_goes_to_the_cluster_with_more_distinct_members():
    eng = engine({"a": member([answer(1), answer(1)], quality=0.9),
                  "b": member([answer(2), answer(3)], quality=0.5),
                  "c": member([answer(2), answer(4)], quality=0.4)})
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2})
    assert result.text.strip() == answer(2).strip()
    assert {c.member for c in result.candidates[:2]} == {"b", "c"}


async def test_same_behaviour_on_the_tests_counts_as_one_answer():
    eng = engine({"a": member([WRONG], quality=0.9), "b": member([PLUS], quality=0.5),
                  "c": member([SWAPPED], quality=0.4)}, checks=ADD_CHECKS)
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 1})
    assert result.best.member in {"b", "c"}
    assert result.candidates[-1].member == "a"
    assert any(e.startswith("clusters by behaviour on tests: 2") for e in result.trace.events)


async def test_a_smaller_cluster_that_passes_the_tests_beats_a_larger_one_that_fails():
    eng = engine({"a": member([WRONG, PLUS], quality=0.9), "b": member([MINUS, WRONG], quality=0.5)},
                 checks=ADD_CHECKS)
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2})
    assert result.text.strip() == PLUS
    assert any(e.startswith("clusters by behaviour on tests: 3 (a, b×2), 1 (a)") for e in result.trace.events)
    assert result.trace.stop_reason == "largest cluster passing the checks: 1 of 4 candidates (a)"


async def test_when_no_cluster_passes_the_largest_still_wins():
    eng = engine({"a": member([WRONG, WORSE], quality=0.9), "b": member([WRONG], quality=0.5)},
                 checks=ADD_CHECKS)
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2})
    assert result.text.strip() == WRONG
    assert result.trace.stop_reason == "largest cluster: 3 of 4 candidates (a, b)"


def cand(member, text="x"):
    return Candidate(member=member, text=text, prompt_kind="chat")


def test_equal_clusters_go_to_the_one_holding_the_rankers_best():
    first = [cand("a"), cand("b")]
    second = [cand("a"), cand("b")]
    ranked = [second[1], first[0], first[1], second[0]]
    assert leading_cluster([first, second], ranked) is second


def test_size_beats_distinct_members_beats_rank():
    big = [cand("a"), cand("a"), cand("a")]
    diverse = [cand("a"), cand("b")]
    same = [cand("c"), cand("c")]
    ranked = same + diverse + big
    assert leading_cluster([same, diverse, big], ranked) is big
    assert leading_cluster([same, diverse], ranked) is diverse


def test_temperature_defaults_to_0_6_only_with_several_samples():
    assert VoteStrategy({}).samples == 3 and VoteStrategy({}).temperature == 0.6
    assert VoteStrategy({"samples": 1}).temperature is None
    assert VoteStrategy({"samples": 4, "temperature": 0.2}).temperature == 0.2


async def test_every_member_failing_gives_an_empty_result():
    eng = engine({"broken": {"options": {"fail": "down"}}})
    result = await eng.run(REQUEST, strategy="vote")
    assert result.candidates == [] and result.trace.stop_reason == "every member failed"


async def test_only_empty_answers_leave_nothing_to_vote_on():
    eng = engine({"a": member(["   "])})
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2})
    assert "no answer to vote on" in result.trace.stop_reason


async def test_with_probes_untested_answers_that_return_the_same_values_are_one_answer(probe_values):
    probe_values.update({answer(1).strip(): ["2"], answer(2).strip(): ["2"],
                         answer(8).strip(): ["3"], answer(9).strip(): ["4"]})
    eng = engine({"strong": member([answer(8), answer(9)], quality=0.9, price_per_1k_tokens=50.0),
                  "weak": member([answer(1), answer(2)], quality=0.2, price_per_1k_tokens=10.0)})
    result = await eng.run(REQUEST, strategy="vote", options={"samples": 2, "probes": 2})
    assert probe_values["writers"] == ["weak"]  # the cheapest member writes the calls
    assert "clusters by values on probe calls: 2 (weak×2), 1 (strong), 1 (strong)" in result.trace.events
    assert result.trace.stop_reason == "largest cluster: 2 of 4 candidates (weak)"
