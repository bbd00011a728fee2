from codequorum.core.prompt_forms import prompt_in_form
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member

COMPLETE = Request(TaskKind.COMPLETE, language="python", prefix="def f(x):\n    ", suffix="\n",
                   tests="assert f(1) == 1")


def test_each_form_builds_its_prompt_or_does_not_apply():
    assert prompt_in_form(COMPLETE, "qwen", "fim").text.startswith("<|fim_prefix|>def f(x):")
    assert prompt_in_form(COMPLETE, None, "fim") is None
    assert prompt_in_form(REQUEST, "qwen", "fim") is None  # FIM is for completions
    chat = prompt_in_form(COMPLETE, "qwen", "chat").messages[1].content
    with_tests = prompt_in_form(COMPLETE, "qwen", "chat-tests").messages[1].content
    assert "<CURSOR>" in chat and "assert f(1) == 1" not in chat
    assert with_tests.startswith(chat) and with_tests.endswith("```python\nassert f(1) == 1\n```")
    generate = Request(TaskKind.GENERATE, language="python", instruction="f", tests="assert f(1) == 1")
    assert "assert f(1) == 1" not in prompt_in_form(generate, None, "chat").messages[1].content
    assert "assert f(1) == 1" in prompt_in_form(generate, None, "chat-tests").messages[1].content
    assert prompt_in_form(REQUEST, None, "chat-tests") is None  # no visible tests


async def test_any_strategy_asks_each_member_once_per_form():
    eng = engine({"a": member([answer(1)], fim="qwen", quality=0.9), "b": member([answer(2)], quality=0.5)})
    result = await eng.run(COMPLETE, strategy="best-of", options={"prompt_forms": ["fim", "chat", "chat-tests"]})
    kinds = [(call.member, call.prompt_kind) for call in result.trace.calls]
    assert sorted(kinds) == [("a", "chat"), ("a", "chat"), ("a", "fim"), ("b", "chat"), ("b", "chat")]
    assert "prompt form fim does not apply to b here: skipped" in result.trace.events
    assert len(result.candidates) == 5


async def test_single_asks_its_member_in_every_form():
    eng = engine({"a": member([answer(1)], fim="qwen")})
    result = await eng.run(COMPLETE, strategy="single", options={"prompt_forms": ["fim", "chat"]})
    assert [call.prompt_kind for call in result.trace.calls] == ["fim", "chat"]


async def test_an_unknown_form_is_reported():
    eng = engine({"a": member([answer(1)])})
    result = await eng.run(REQUEST, strategy="single", options={"prompt_forms": ["haiku"]})
    assert any("prompt_forms must be a non-empty list of fim, chat, chat-tests" in e for e in result.trace.events)
