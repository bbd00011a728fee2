import asyncio
import time

import pytest

from codequorum.core.engine import Engine
from codequorum.server.cache import PrefixCache
from codequorum.server.completion_service import (
    CompletionPolicy,
    CompletionQuery,
    CompletionService,
    completion_members,
)
from codequorum.server.stats import ServerStats
from tests.unit.doubles import scripted_registry, scripted_settings
from tests.unit.server.engine_double import FakeEngine

TEXT = "def total(values):\n    \n"
CURSOR = TEXT.index("    \n") + 4


def service(engine, **policy) -> CompletionService:
    # best-of asks every member at once: what settling, deadlines and refinement act on
    defaults = {"debounce_s": 0.0, "deadline_s": 5.0, "strategy": "best-of"}
    return CompletionService(engine, CompletionPolicy(**(defaults | policy)), ServerStats(), PrefixCache(16))


def query(text=TEXT, offset=CURSOR, document="file:///a.py", scope="block"):
    return CompletionQuery(document=document, text=text, offset=offset, language="python", scope=scope)


async def test_answers_with_the_ranked_suggestions_best_first():
    svc = service(FakeEngine({"strong": "return sum(values)", "weak": "pass"}))
    suggestions = await svc.complete(query())
    assert [(s.text, s.member) for s in suggestions] == [("return sum(values)", "strong"), ("pass", "weak")]
    assert svc.stats.engine_runs == 1


async def test_an_identical_request_is_answered_from_the_cache_without_a_model_call():
    engine = FakeEngine({"m": "return sum(values)"})
    svc = service(engine)
    first = await svc.complete(query())
    second = await svc.complete(query())
    assert second == first
    assert len(engine.requests) == 1 and svc.stats.cache_hits == 1


async def test_typing_the_start_of_the_suggestion_returns_the_rest_without_a_model_call():
    engine = FakeEngine({"m": "return sum(values)", "other": "pass"})
    svc = service(engine)
    await svc.complete(query())
    typed = TEXT[:CURSOR] + "return s" + TEXT[CURSOR:]
    [rest] = await svc.complete(query(typed, CURSOR + len("return s")))
    assert rest.text == "um(values)" and rest.member == "m"
    assert len(engine.requests) == 1 and svc.stats.typed_through_hits == 1


async def test_typing_through_a_block_suggestion_keeps_it_whole_although_the_line_is_begun():
    engine = FakeEngine({"m": "total = sum(values)\n    return total"})
    svc = service(engine)
    await svc.complete(query())
    typed = TEXT[:CURSOR] + "tot" + TEXT[CURSOR:]
    [rest] = await svc.complete(query(typed, CURSOR + 3, scope="line"))
    assert rest.text == "al = sum(values)\n    return total" and len(engine.requests) == 1


async def test_typing_something_else_asks_the_models_again():
    engine = FakeEngine({"m": "return sum(values)"})
    svc = service(engine)
    await svc.complete(query())
    typed = TEXT[:CURSOR] + "x" + TEXT[CURSOR:]
    await svc.complete(query(typed, CURSOR + 1))
    assert len(engine.requests) == 2 and svc.stats.cache_hits == 0


async def test_requests_within_the_debounce_window_run_the_models_once():
    engine = FakeEngine({"m": "return sum(values)"})
    svc = service(engine, debounce_s=0.05)
    typed = TEXT[:CURSOR] + "r" + TEXT[CURSOR:]
    first = asyncio.create_task(svc.complete(query()))
    await asyncio.sleep(0.01)
    second = await svc.complete(query(typed, CURSOR + 1))
    assert await first == () and second[0].text == "return sum(values)"
    assert len(engine.requests) == 1 and svc.stats.debounced == 1


async def test_a_newer_request_for_the_document_stops_the_running_one():
    engine = FakeEngine({"m": "return sum(values)"}, steps=1000, step_s=0.01)
    svc = service(engine)
    older = asyncio.create_task(svc.complete(query()))
    await engine.started.wait()
    engine.steps = 1  # the newer request finishes at once
    newer = await svc.complete(query(TEXT[:CURSOR] + "r" + TEXT[CURSOR:], CURSOR + 1))
    assert await older == () and newer
    assert engine.tokens[0].cancelled and not engine.tokens[1].cancelled
    assert svc.stats.superseded == 1
    assert svc.stats.last_stopped_run.tokens < 1000


async def test_a_superseded_run_is_not_cached():
    engine = FakeEngine({"m": "partial"}, steps=1000, step_s=0.01)
    svc = service(engine)
    older = asyncio.create_task(svc.complete(query()))
    await engine.started.wait()
    engine.steps = 1
    await svc.complete(query(document="file:///a.py", text=TEXT + "\n", offset=CURSOR))
    await older
    assert await svc.complete(query()) and len(engine.requests) == 3


async def test_requests_for_different_documents_do_not_supersede_each_other():
    engine = FakeEngine({"m": "return sum(values)"}, steps=3, step_s=0.01)
    svc = service(engine)
    a, b = await asyncio.gather(svc.complete(query(document="file:///a.py")),
                                svc.complete(query(text=TEXT + "\n", document="file:///b.py")))
    assert a and b and svc.stats.superseded == 0


async def test_cancelling_the_caller_stops_the_model_work_and_reports_it():
    engine = FakeEngine({"m": "return sum(values)"}, steps=1000, step_s=0.01)
    svc = service(engine)
    task = asyncio.create_task(svc.complete(query()))
    await engine.started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.tokens[0].cancelled
    assert svc.stats.cancelled == 1 and svc.stats.active_runs == 0
    assert 0 < svc.stats.last_stopped_run.tokens < 1000


async def test_cancelling_during_the_debounce_makes_no_model_call():
    engine = FakeEngine({"m": "x"})
    svc = service(engine, debounce_s=1.0)
    task = asyncio.create_task(svc.complete(query()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.requests == [] and svc.stats.cancelled == 1


async def test_the_scope_is_decided_once_and_carried_on_the_request():
    engine = FakeEngine({"m": "sum(values)"})
    svc = service(engine, line_max_tokens=7, block_max_tokens=50)
    await svc.complete(query(scope="line"))
    assert engine.requests[0].scope == "line" and engine.requests[0].max_tokens == 7


async def test_a_request_with_no_answer_yet_may_run_to_the_hard_cap():
    engine = FakeEngine({"m": "x"})
    svc = service(engine, deadline_s=1.0, hard_cap_s=20.0)
    await svc.complete(query())
    budget = engine.requests[0].budget
    assert budget.deadline_s <= 1.0 and 19.0 < budget.hard_cap_s <= 20.0


async def test_the_deadline_counts_from_when_the_request_arrived():
    engine = FakeEngine({"m": "x"})
    svc = service(engine, debounce_s=0.1, deadline_s=1.0)
    await svc.complete(query())
    assert 0.8 < engine.requests[0].budget.deadline_s <= 0.9


async def test_the_prompt_shows_the_configured_windows():
    engine = FakeEngine({"m": "x"})
    text = "".join(f"line_{n} = {n}\n" for n in range(400))
    cursor = text.index("line_200")
    svc = service(engine, prefix_chars=300, suffix_chars=100)
    await svc.complete(query(text=text, offset=cursor))
    request = engine.requests[0]
    assert 300 <= len(request.prefix) <= 300 + 512 and request.prefix.endswith("line_199 = 199\n")
    assert request.suffix.startswith("line_200") and len(request.suffix) <= 100


async def test_at_the_deadline_the_fast_members_answer_is_returned():
    settings = scripted_settings({
        "slow": {"quality": 0.9, "options": {"delay": 5, "replies": ["slow answer"]}},
        "fast": {"quality": 0.1, "options": {"replies": ["fast answer"]}},
    })
    svc = service(Engine(settings, scripted_registry()), deadline_s=0.3, settle_ratio=None, refine=False)
    [suggestion] = await svc.complete(query())
    assert (suggestion.text, suggestion.member) == ("fast answer", "fast")
    assert svc.stats.deadline_fallbacks == 1
    slow = next(call for call in svc.stats.last_run.calls if call["member"] == "slow")
    assert "deadline" in slow["error"]


def slow_and_fast_members(slow_delay: float) -> Engine:
    settings = scripted_settings({
        "slow": {"quality": 0.9, "options": {"delay": slow_delay, "replies": ["slow answer"]}},
        "fast": {"quality": 0.1, "options": {"delay": 0.1, "replies": ["fast answer"]}},
    })
    return Engine(settings, scripted_registry())


async def wait_for_refinements(svc: CompletionService) -> None:
    while svc.stats.refining:
        await asyncio.sleep(0.01)


async def test_the_answer_comes_soon_after_the_fastest_member_and_a_refinement_improves_the_cache():
    svc = service(slow_and_fast_members(slow_delay=1.0), settle_ratio=0.5)
    started = time.monotonic()
    [suggestion] = await svc.complete(query())
    assert (suggestion.text, suggestion.member) == ("fast answer", "fast")
    assert time.monotonic() - started < 0.6  # 0.1 s and half of it more, not the slow 1 s
    slow = next(call for call in svc.stats.last_run.calls if call["member"] == "slow")
    assert slow["stopped"] == "settled" and slow["error"] is None
    assert svc.stats.settled == 1 and svc.stats.refinements == 1
    await wait_for_refinements(svc)
    assert svc.stats.refinements_done == 1 and svc.stats.refinements_changed == 1
    again = await svc.complete(query())
    assert [s.member for s in again] == ["slow", "fast"] and svc.stats.cache_hits == 1


async def test_a_refinement_reuses_the_fast_members_greedy_answer():
    engine = slow_and_fast_members(slow_delay=0.5)
    svc = service(engine, settle_ratio=0.1)
    await svc.complete(query())
    await wait_for_refinements(svc)
    fast = next(call for call in svc.stats.last_run.calls if call["member"] == "fast")
    assert fast["seconds"] < 0.05  # from the member's memo, not another 0.1 s generation


async def test_a_request_that_needs_the_models_stops_the_refinement():
    svc = service(slow_and_fast_members(slow_delay=5.0), settle_ratio=0.2)
    await svc.complete(query())
    assert svc.stats.refining == 1
    moved = TEXT[:CURSOR] + "x" + TEXT[CURSOR:]
    await svc.complete(query(moved, CURSOR + 1))
    assert svc.stats.refinements_stopped == 1
    svc.stop_all()
    await wait_for_refinements(svc)
    assert svc.stats.refinements_stopped == 2 and svc.stats.refinements_done == 0


async def test_typing_through_the_refined_entry_lets_its_refinement_go_on():
    svc = service(slow_and_fast_members(slow_delay=0.6), settle_ratio=0.2)
    await svc.complete(query())
    typed = TEXT[:CURSOR] + "fast" + TEXT[CURSOR:]
    [rest] = await svc.complete(query(typed, CURSOR + 4))
    assert rest.text == " answer" and svc.stats.refinements_stopped == 0
    await wait_for_refinements(svc)
    assert svc.stats.refinements_done == 1


async def test_a_failing_member_does_not_break_the_completion():
    settings = scripted_settings({
        "broken": {"quality": 0.9, "options": {"fail": "out of memory"}},
        "ok": {"quality": 0.1, "options": {"replies": ["return 1"]}},
    })
    svc = service(Engine(settings, scripted_registry()))
    [suggestion] = await svc.complete(query())
    assert suggestion.text == "return 1"


async def test_stop_all_stops_every_running_request():
    engine = FakeEngine({"m": "x"}, steps=1000, step_s=0.01)
    svc = service(engine)
    task = asyncio.create_task(svc.complete(query()))
    await engine.started.wait()
    svc.stop_all()
    assert await task == () and engine.tokens[0].cancelled


async def test_warm_up_runs_every_completion_member_once_and_reports_its_time():
    engine = FakeEngine({"m": "x"})
    svc = service(engine, strategy="best-of", members=("a", "b"))
    await svc.warm_up()
    [request] = engine.requests
    assert engine.asked == [("best-of", ("a", "b"))]
    assert request.max_tokens == 1 and svc.stats.warm_up_seconds is not None
    assert svc.stats.engine_runs == 0  # not a completion: the counters stay about the user's requests


def test_completions_use_the_fill_in_the_middle_members_unless_configured():
    settings = scripted_settings(
        {"fim": {"fim": "qwen"}, "chat": {}, "off": {"fim": "qwen", "enabled": False}})
    assert completion_members(settings) == ("fim",)
    assert completion_members(scripted_settings({"chat": {}})) is None
    chosen = scripted_settings({"fim": {"fim": "qwen"}, "chat": {}}, server={"inline_members": ["chat"]})
    assert completion_members(chosen) == ("chat",)


async def wait_for_background(svc: CompletionService) -> None:
    while svc._background:  # noqa: SLF001 - the service's own background tasks
        await asyncio.sleep(0.01)


def ladder_service(engine, **policy) -> CompletionService:
    """A strategy that stops at the strongest member's snippet, the weak one left unasked."""
    return service(engine, strategy="confidence", members=("strong", "weak"),
                   warm_members=frozenset({"strong", "weak"}), **policy)


async def test_the_members_a_completion_did_not_ask_read_its_prompt_in_the_background():
    engine = FakeEngine({"strong": "return sum(values)", "weak": "pass"}, answering=["strong"])
    svc = ladder_service(engine)
    [suggestion] = await svc.complete(query())
    assert suggestion.member == "strong"
    await wait_for_background(svc)
    assert engine.asked[-1] == ("single", ["weak"])
    warm = engine.requests[-1]
    assert warm.max_tokens == 1 and warm.prefix == engine.requests[0].prefix
    assert svc.stats.warmings == 1 and svc.stats.warmings_done == 1
    assert [call["member"] for call in svc.stats.last_warming.calls] == ["weak"]
    assert await svc.complete(query()) == (suggestion,)  # the warming stored nothing


async def test_a_request_that_needs_the_models_stops_the_warming():
    engine = FakeEngine({"strong": "x = 1", "weak": "pass"}, steps=50, step_s=0.01, answering=["strong"])
    svc = ladder_service(engine)
    await svc.complete(query())
    await asyncio.sleep(0.05)
    moved = TEXT[:CURSOR] + "y" + TEXT[CURSOR:]  # not typing through "x = 1": the models are needed
    await svc.complete(query(moved, CURSOR + 1))
    assert engine.asked[1] == ("single", ["weak"]) and engine.tokens[1].cancelled  # the first warming, stopped for the second request
    assert svc.stats.refinements_stopped >= 1
    svc.stop_all()
    await wait_for_background(svc)
    assert svc.stats.warmings == 2 and svc.stats.warmings_done == 0


async def test_closing_the_document_stops_its_warming():
    engine = FakeEngine({"strong": "x = 1", "weak": "pass"}, steps=50, step_s=0.01, answering=["strong"])
    svc = ladder_service(engine)
    await svc.complete(query())
    await asyncio.sleep(0.05)
    svc.document_closed("file:///elsewhere.py")
    assert not engine.tokens[1].cancelled
    svc.document_closed(query().document)
    await wait_for_background(svc)
    assert engine.asked[1] == ("single", ["weak"]) and engine.tokens[1].cancelled
    assert svc.stats.refinements_stopped == 1 and svc.stats.warmings_done == 0


async def test_members_whose_backend_keeps_no_prompt_cache_are_not_warmed():
    engine = FakeEngine({"strong": "x = 1", "weak": "pass"}, answering=["strong"])
    svc = service(engine, strategy="confidence", members=("strong", "weak"), warm_members=frozenset({"strong"}))
    await svc.complete(query())
    await wait_for_background(svc)
    assert len(engine.requests) == 1 and svc.stats.warmings == 0


def test_the_policy_warms_the_local_llama_cpp_members_unless_switched_off():
    settings = scripted_settings({"remote": {"quality": 0.9}})
    local = settings.model_copy(update={"members": settings.members | {
        "local": settings.members["remote"].model_copy(update={"name": "local", "backend": "llama-cpp"})}})
    assert CompletionPolicy.from_settings(local).warm_members == frozenset({"local"})
    off = local.model_copy(update={"server": local.server.model_copy(update={"warm_fallbacks": False})})
    assert CompletionPolicy.from_settings(off).warm_members == frozenset()
