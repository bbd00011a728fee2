"""A busy machine gets a late answer, not none: the deadline bounds waiting for *more*
answers once one exists; with none yet, work goes on until the first one or the hard cap."""

import asyncio

from codequorum.core.engine import Engine
from codequorum.vocabulary.request import Budget, Request, TaskKind
from codequorum.core.scheduler import ComputeScheduler
from tests.unit.doubles import scripted_registry, scripted_settings


def engine(members, **extra):
    return Engine(scripted_settings(members, **extra), scripted_registry())


def generate(deadline_s, hard_cap_s=None):
    return Request(TaskKind.GENERATE, instruction="x",
                   budget=Budget(deadline_s=deadline_s, hard_cap_s=hard_cap_s))


async def test_past_the_deadline_with_no_answer_the_first_one_still_comes():
    eng = engine({"slow": {"options": {"delay": 0.4, "replies": ["late"]}}})
    result = await eng.run(generate(deadline_s=0.1, hard_cap_s=5), strategy="single")
    assert result.text.strip() == "late"
    assert result.trace.calls[0].error is None


async def test_once_one_answer_exists_the_others_are_stopped_at_the_deadline():
    eng = engine({"slow": {"quality": 0.9, "options": {"delay": 3, "replies": ["slow"]}},
                  "late": {"quality": 0.5, "options": {"delay": 0.3, "replies": ["late"]}}})
    result = await eng.run(generate(deadline_s=0.1, hard_cap_s=10), strategy="best-of")
    assert result.text.strip() == "late"
    slow = next(c for c in result.trace.calls if c.member == "slow")
    assert "deadline" in slow.error and slow.seconds < 1.5


async def test_the_hard_cap_ends_a_request_nobody_answers_and_says_what_to_raise():
    eng = engine({"stuck": {"options": {"delay": 5, "replies": ["never"]}}})
    result = await eng.run(generate(deadline_s=0.05, hard_cap_s=0.3), strategy="single")
    assert result.text == ""
    assert "hard cap" in result.trace.calls[0].error
    assert "hard_cap_s" in result.trace.calls[0].error


async def test_the_engine_gives_a_request_without_a_cap_the_configured_one():
    eng = engine({"slow": {"options": {"delay": 0.3, "replies": ["late"]}}},
                 engine={"hard_cap_s": 5})
    result = await eng.run(generate(deadline_s=0.05), strategy="single")
    assert result.text.strip() == "late"


async def test_a_member_that_never_got_the_cpu_is_traced_as_queued_not_started():
    from codequorum.plugins.backends._threads import run_local
    from codequorum.plugins.protocols import CancelToken

    scheduler = ComputeScheduler(slots=1)
    hog, waiter = CancelToken(), CancelToken()
    busy = asyncio.create_task(run_local(scheduler, 0.0, lambda: __import__("time").sleep(0.3), hog))
    await asyncio.sleep(0.05)
    queued = asyncio.create_task(run_local(scheduler, 1.0, lambda: None, waiter))
    await asyncio.sleep(0.05)
    assert hog.started and waiter.queued and not waiter.started
    await busy
    await queued
    assert waiter.started


async def test_members_queued_together_go_strongest_first_for_generate_cheapest_first_for_completions():
    from codequorum.vocabulary.request import completion_request
    from tests.unit.doubles import ScriptedBackend

    eng = engine({"strong": {"quality": 0.9, "price_per_1k_tokens": 9.0},
                  "cheap": {"quality": 0.2, "price_per_1k_tokens": 1.0}})
    ScriptedBackend.params.clear()
    await eng.run(generate(deadline_s=5), strategy="best-of")
    assert sorted(p.queue_priority for p in ScriptedBackend.params) == [-0.9, -0.2]
    ScriptedBackend.params.clear()
    await eng.run(completion_request("x = ", 4), strategy="best-of")
    assert [p.queue_priority for p in ScriptedBackend.params] == [None, None]
