from codequorum.core.engine import Engine
from codequorum.vocabulary.request import Budget, Request, TaskKind, completion_request
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers")


def engine(members, **extra):
    return Engine(scripted_settings(members, **extra), scripted_registry())


async def test_single_uses_the_strongest_member_by_default():
    eng = engine({"weak": {"quality": 0.2, "options": {"replies": ["weak"]}},
                  "strong": {"quality": 0.9, "options": {"replies": ["strong"]}}})
    result = await eng.run(REQUEST, strategy="single")
    assert result.text.strip() == "strong"
    assert [c.member for c in result.trace.calls] == ["strong"]


async def test_single_member_option_selects_the_member():
    eng = engine({"weak": {"quality": 0.2, "options": {"replies": ["weak"]}},
                  "strong": {"quality": 0.9, "options": {"replies": ["strong"]}}})
    result = await eng.run(REQUEST, strategy="single", options={"member": "weak"})
    assert result.text.strip() == "weak"


async def test_best_of_prefers_the_answer_others_agree_with():
    same = "def add(a, b):\n    return a + b\n"
    eng = engine(ranking={"listwise": False}, members={
        "strong": {"quality": 0.9, "options": {"replies": ["def add(a, b):\n    return a - b - 0 * 7\n"]}},
        "m2": {"quality": 0.5, "options": {"replies": [same]}},
        "m3": {"quality": 0.4, "options": {"replies": ["def add(a, b):\n    # sum\n    return a + b\n"]}},
    })
    result = await eng.run(REQUEST, strategy="best-of")
    assert result.best.member in {"m2", "m3"}
    assert len(result.candidates) == 3
    assert result.candidates[-1].member == "strong"
    assert result.best.scores["vote"] > result.candidates[-1].scores["vote"]


async def test_a_failing_member_is_traced_and_the_others_answer():
    eng = engine({"broken": {"quality": 0.9, "options": {"fail": "server exploded"}},
                  "ok": {"quality": 0.5, "options": {"replies": ["x = 1"]}}})
    result = await eng.run(REQUEST, strategy="best-of")
    assert result.text.strip() == "x = 1"
    errors = {c.member: c.error for c in result.trace.calls}
    assert "server exploded" in errors["broken"] and errors["ok"] is None


async def test_deadline_cuts_a_slow_member_and_keeps_the_fast_one():
    eng = engine({"slow": {"quality": 0.9, "options": {"delay": 5, "replies": ["slow"]}},
                  "fast": {"quality": 0.5, "options": {"replies": ["fast"]}}})
    request = Request(TaskKind.GENERATE, instruction="x", budget=Budget(deadline_s=0.3))
    result = await eng.run(request, strategy="best-of")
    assert result.text.strip() == "fast"
    slow = next(c for c in result.trace.calls if c.member == "slow")
    assert "deadline" in slow.error and slow.seconds < 2


async def test_unknown_strategy_still_returns_a_result():
    result = await engine({"a": {}}).run(REQUEST, strategy="nope")
    assert result.candidates == [] and result.trace.stop_reason == "error"
    assert "no strategy plugin named 'nope'" in result.trace.events[0]


async def test_a_strategy_that_raises_answers_with_the_best_so_far():
    class Exploding:
        name = "exploding"

        def __init__(self, options):
            pass

        async def run(self, ctx):
            await ctx.sample(ctx.members[0])
            raise ValueError("bug in strategy")

    eng = engine({"a": {"options": {"replies": ["y = 2"]}}})
    eng.runtime.registry.register("strategies", "exploding", Exploding)
    result = await eng.run(REQUEST, strategy="exploding")
    assert result.text.strip() == "y = 2"
    assert "bug in strategy" in result.trace.events[-1]


async def test_a_backend_that_cannot_be_built_is_skipped():
    class Unbuildable:
        def __init__(self, member, runtime):
            raise RuntimeError("missing driver")

    eng = engine({"bad": {"backend": "unbuildable", "quality": 0.9}, "ok": {"options": {"replies": ["z"]}}})
    eng.runtime.registry.register("backends", "unbuildable", Unbuildable)
    result = await eng.run(REQUEST, strategy="best-of")
    assert result.text.strip() == "z"
    assert "missing driver" in next(c.error for c in result.trace.calls if c.member == "bad")


async def test_chat_only_member_gets_a_chat_prompt_and_fim_member_a_fim_prompt():
    ScriptedBackend.prompts.clear()
    eng = engine({"fim": {"fim": "qwen", "quality": 0.9}, "chat": {"quality": 0.1}})
    await eng.run(completion_request("x = ", 4, language="python"), strategy="best-of")
    kinds = sorted(p.kind for p in ScriptedBackend.prompts)
    assert kinds == ["chat", "fim"]


async def test_json_has_the_documented_shape():
    result = await engine({"a": {"options": {"replies": ["v = 3"]}}}).run(REQUEST, strategy="single")
    data = result.to_json_dict()
    assert data["text"].strip() == "v = 3" and data["strategy"] == "single"
    candidate = data["candidates"][0]
    assert {"member", "text", "score", "checks"} <= set(candidate)
    assert {"syntax", "tests"} <= set(candidate["checks"])
    assert {"member", "tokens", "seconds", "cost", "error"} <= set(data["trace"]["calls"][0])
