from codequorum.core.aggregate_prompts import aggregate_prompt
from codequorum.core.toolkit import distinct_top
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Budget, Request, TaskKind
from tests.unit.doubles import ScriptedBackend
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member, verdicts

STRONG = {"quality": 0.9}
WEAK = {"quality": 0.4}


def calls(result):
    return [call.member for call in result.trace.calls]


def cand(text, name="m"):
    return Candidate(member=name, text=text, prompt_kind="chat")


# ---- decision helpers ------------------------------------------------------------------


def test_distinct_top_skips_duplicates_and_empty_texts():
    ranked = [cand(answer(1)), cand(answer(1) + "\n"), cand("  "), cand(answer(2)), cand(answer(3))]
    assert [c.text for c in distinct_top(ranked, 2)] == [answer(1), answer(2)]
    assert len(distinct_top(ranked, 10)) == 3


def test_the_aggregation_prompt_holds_the_task_and_every_answer():
    request = Request(TaskKind.GENERATE, language="python", instruction="add two numbers",
                      tests="assert add(1, 2) == 3")
    prompt = aggregate_prompt(request, [answer(1), "", answer(2)])
    system, user = prompt.messages
    assert prompt.kind == "chat" and "expert python programmer" in system.content
    assert "add two numbers" in user.content and "assert add(1, 2) == 3" in user.content
    assert "Candidate answer 1:\n```python\n" + answer(1).strip() in user.content
    assert "Candidate answer 2:" in user.content and "Candidate answer 3" not in user.content
    assert "Combine the strengths of these 2 candidate answer(s) and fix their errors" in user.content


def test_a_completion_is_aggregated_at_the_cursor():
    request = Request(TaskKind.COMPLETE, language="python", prefix="def f(x):\n    ", suffix="\n")
    user = aggregate_prompt(request, ["return x"]).messages[1].content
    assert "<CURSOR>" in user and user.endswith("Return one code block with the code that replaces <CURSOR>.")


# ---- the strategy through the engine ---------------------------------------------------

FUSED = "def f():\n    return 5\n"
CHECKS = verdicts({answer(1).strip(): {"results": [True, False]},
                   answer(2).strip(): {"results": [False, True]},
                   FUSED.strip(): {"results": [True, True]}})


async def test_the_fused_answer_wins_when_it_ranks_first():
    ScriptedBackend.prompts.clear()
    eng = engine({"a": member([answer(1), FUSED], **STRONG), "b": member([answer(2)], **WEAK)}, checks=CHECKS)
    result = await eng.run(REQUEST, strategy="fuse")
    assert calls(result) == ["a", "b", "a"]
    assert result.text.strip() == FUSED.strip()
    assert "fusing the top 2 (a, b) with a" in result.trace.events
    assert "fused answer ranked first of 3" in result.trace.events
    assert result.trace.stop_reason == "fused by a from the top 2; ranked first"
    fusion_prompt = ScriptedBackend.prompts[-1].messages[1].content
    assert answer(1).strip() in fusion_prompt and answer(2).strip() in fusion_prompt


async def test_a_worse_fused_answer_does_not_replace_the_best_candidate():
    checks = verdicts({answer(1).strip(): {"results": [True, True]},
                       answer(2).strip(): {"results": [False, True]},
                       FUSED.strip(): {"results": [False, False]}})
    eng = engine({"a": member([answer(1), FUSED], **STRONG), "b": member([answer(2)], **WEAK)}, checks=checks)
    result = await eng.run(REQUEST, strategy="fuse")
    assert result.text.strip() == answer(1).strip()
    assert len(result.candidates) == 3
    assert result.trace.stop_reason == "fused answer ranked 3; best is a's candidate"


async def test_agreeing_candidates_that_pass_are_not_fused():
    eng = engine({"a": member([answer(1)], **STRONG), "b": member([answer(1)], **WEAK)})
    result = await eng.run(REQUEST, strategy="fuse")
    assert calls(result) == ["a", "b"]
    assert "not fusing: the candidates agree and pass the checks, nothing to combine" in result.trace.events


async def test_fusion_that_would_exceed_max_cost_is_skipped():
    dear = {"price_per_1k_tokens": 1000.0}  # 3 tokens a reply: 3.0 per call
    request = Request(TaskKind.GENERATE, language="python", instruction="x", budget=Budget(max_cost=8.0))
    eng = engine({"a": member([answer(1), FUSED], **STRONG, **dear), "b": member([answer(2)], **WEAK, **dear)})
    result = await eng.run(request, strategy="fuse")
    assert calls(result) == ["a", "b"]
    [event] = [e for e in result.trace.events if e.startswith("not fusing")]
    assert "would exceed max_cost 8" in event
    assert result.trace.stop_reason.startswith("best candidate without fusion")
    assert result.text.strip() in (answer(1).strip(), answer(2).strip())


async def test_the_fuser_option_names_the_aggregator_and_its_failure_keeps_the_best():
    eng = engine({"a": member([answer(1)], **STRONG), "b": member([answer(2)], **WEAK),
                  "c": {"quality": 0.1, "options": {"fail": "down"}}})
    result = await eng.run(REQUEST, strategy="fuse", options={"fuser": "c"})
    assert calls(result) == ["a", "b", "c", "c"]
    assert result.trace.stop_reason == "fusion failed; best candidate so far"
    assert result.text.strip() in (answer(1).strip(), answer(2).strip())


async def test_the_default_fuser_is_the_strongest_chat_member():
    eng = engine({"a": member([answer(1)], **STRONG, chat=False), "b": member([answer(2), FUSED], **WEAK)},
                 checks=CHECKS)
    result = await eng.run(REQUEST, strategy="fuse")
    assert calls(result) == ["a", "b", "b"]
    assert result.trace.events[0].endswith("fuser: b")


async def test_a_fuser_without_chat_is_reported():
    eng = engine({"a": member([answer(1)], **STRONG, chat=False), "b": member([answer(2)], **WEAK)})
    result = await eng.run(REQUEST, strategy="fuse", options={"fuser": "a"})
    assert any("member a does not take chat prompts" in e for e in result.trace.events)
