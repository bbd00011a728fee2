from codequorum.vocabulary.request import Budget, Request, TaskKind
from tests.unit.doubles import ScriptedBackend
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member, verdicts

STRONG = {"quality": 0.9}
WEAK = {"quality": 0.4}


def calls(result):
    return [(call.member, call.prompt_kind) for call in result.trace.calls]


async def test_each_layer_sees_the_previous_answers_and_the_aggregator_synthesises():
    ScriptedBackend.prompts.clear()
    eng = engine({"a": member([answer(1), answer(3), answer(5)], **STRONG),
                  "b": member([answer(2), answer(4)], **WEAK)})
    result = await eng.run(REQUEST, strategy="moa")
    assert [m for m, _ in calls(result)] == ["a", "b", "a", "b", "a"]
    layer2_prompt = ScriptedBackend.prompts[2].messages[1].content
    assert answer(1).strip() in layer2_prompt and answer(2).strip() in layer2_prompt
    final_prompt = ScriptedBackend.prompts[4].messages[1].content
    assert answer(3).strip() in final_prompt and answer(4).strip() in final_prompt
    assert answer(1).strip() not in final_prompt
    events = result.trace.events
    assert events[0] == "mixture of agents: 2 layer(s) of a, b; aggregator: a"
    assert "layer 1: asked a, b; 2 answer(s) from a, b" in events
    assert "layer 2: asked a, b; 2 answer(s) from a, b" in events
    assert "aggregator: asked a; 1 answer(s) from a" in events
    assert len(result.candidates) == 5  # every layer's answers are candidates
    assert any(e.startswith("ranked: ") and "aggregator (a)" in e and "layer 1 (b)" in e for e in events)
    assert result.trace.stop_reason.startswith("best: ")


async def test_the_final_ranking_decides_and_names_the_layer():
    checks = verdicts({answer(2).strip(): {"results": [True, True]},
                       answer(1).strip(): {"results": [False, True]},
                       answer(3).strip(): {"results": [False, False]}})
    eng = engine({"a": member([answer(1), answer(3)], **STRONG), "b": member([answer(2)], **WEAK)},
                 checks=checks)
    result = await eng.run(REQUEST, strategy="moa", options={"layers": 1, "proposers": ["a", "b"]})
    assert [m for m, _ in calls(result)] == ["a", "b", "a"]
    assert result.text.strip() == answer(2).strip()
    assert result.trace.stop_reason == "best: layer 1 (b) of 3 candidates"


async def test_proposers_without_chat_only_answer_the_first_layer():
    eng = engine({"a": member([answer(1)], **STRONG), "b": member([answer(2)], **WEAK, chat=False)})
    result = await eng.run(REQUEST, strategy="moa", options={"layers": 2, "aggregator": "a", "min_distinct": 1})
    assert [m for m, _ in calls(result)] == ["a", "b", "a", "a"]
    assert "layer 2 leaves out b: no chat prompts" in result.trace.events


async def test_a_layer_over_budget_is_not_started_and_the_best_so_far_answers():
    dear = {"price_per_1k_tokens": 1000.0}  # 3 tokens a reply: 3.0 per call
    request = Request(TaskKind.GENERATE, language="python", instruction="x", budget=Budget(max_cost=8.0))
    eng = engine({"a": member([answer(1)], **STRONG, **dear), "b": member([answer(2)], **WEAK, **dear)})
    result = await eng.run(request, strategy="moa")
    assert [m for m, _ in calls(result)] == ["a", "b"]
    [stop] = [e for e in result.trace.events if e.startswith("stopped: ")]
    assert stop.startswith("stopped: layer 2 not started: cost spent 6") and "max_cost 8" in stop
    assert len(result.candidates) == 2 and "layer 2 not started" in result.trace.stop_reason


async def test_a_layer_without_answers_stops_the_mixture():
    eng = engine({"a": {"quality": 0.9, "options": {"fail": "down"}},
                  "b": {"quality": 0.4, "options": {"fail": "down"}}})
    result = await eng.run(REQUEST, strategy="moa")
    assert [m for m, _ in calls(result)] == ["a", "b"]
    assert "stopped: layer 1 gave no answer to build on" in result.trace.events
    assert result.candidates == [] and result.trace.stop_reason == "every member failed"


async def test_a_unanimous_layer_that_passes_the_checks_ends_the_mixture():
    eng = engine({"a": member([answer(1), answer(3)], **STRONG), "b": member([answer(1), answer(4)], **WEAK)})
    result = await eng.run(REQUEST, strategy="moa")
    assert [m for m, _ in calls(result)] == ["a", "b"]
    stop = "layer 1's answers agree and pass the checks, nothing to synthesise"
    assert f"stopped: {stop}" in result.trace.events
    assert result.trace.stop_reason == f"best: layer 1 (a) of 2 candidates; {stop}"


async def test_a_unanimous_layer_that_fails_the_checks_is_synthesised():
    checks = verdicts({answer(1).strip(): {"results": [False, True]}, answer(3).strip(): {"results": [True, True]}})
    eng = engine({"a": member([answer(1), answer(3)], **STRONG), "b": member([answer(1)], **WEAK)},
                 checks=checks)
    result = await eng.run(REQUEST, strategy="moa", options={"layers": 1})
    assert [m for m, _ in calls(result)] == ["a", "b", "a"]
    assert result.text.strip() == answer(3).strip()


async def test_min_distinct_one_synthesises_even_a_unanimous_layer():
    eng = engine({"a": member([answer(1), answer(3)], **STRONG), "b": member([answer(1)], **WEAK)})
    result = await eng.run(REQUEST, strategy="moa", options={"layers": 1, "min_distinct": 1})
    assert [m for m, _ in calls(result)] == ["a", "b", "a"]


async def test_min_distinct_three_needs_three_answers_when_the_best_passes():
    eng = engine({"a": member([answer(1), answer(3)], **STRONG), "b": member([answer(2)], **WEAK)})
    result = await eng.run(REQUEST, strategy="moa", options={"layers": 1, "min_distinct": 3})
    assert [m for m, _ in calls(result)] == ["a", "b"]
    assert "stopped: layer 1's answers agree and pass the checks, nothing to synthesise" in result.trace.events


async def test_every_candidate_is_checked_once():
    checked: list[str] = []

    class Counting:
        name = "counting"

        def __init__(self, runtime: object) -> None:
            pass

        async def run(self, request: Request, candidates: list) -> None:
            checked.extend(c.text.strip() for c in candidates)

    eng = engine({"a": member([answer(1), answer(3), answer(5)], **STRONG),
                  "b": member([answer(2), answer(4)], **WEAK)}, checks=Counting)
    result = await eng.run(REQUEST, strategy="moa")
    assert sorted(checked) == sorted(c.text.strip() for c in result.candidates)
    assert len(checked) == 5


async def test_bad_options_are_reported_not_raised():
    for options, message in (({"layers": 0}, "layers = 0"), ({"min_distinct": 0}, "min_distinct = 0")):
        result = await engine({"a": member([answer(1)])}).run(REQUEST, strategy="moa", options=options)
        assert result.candidates == [] and message in result.trace.events[0]
        assert "needs layers >= 1 and min_distinct >= 1" in result.trace.events[0]
