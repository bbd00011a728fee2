import asyncio
import random

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.engine import Engine
from codequorum.core.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    MemberGuard,
    RejectedRequest,
    RetryPolicy,
    TransientError,
    classify,
)
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import scripted_registry

REQUEST = Request(TaskKind.GENERATE, language="python", instruction="add two numbers")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Attempts:
    """Fails with the given errors in turn, then answers "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def guard(retries=2, failures_to_open=0, cooldown_s=10.0, clock=None) -> MemberGuard:
    breaker = CircuitBreaker("remote", failures_to_open, cooldown_s, clock=clock or Clock())
    return MemberGuard(RetryPolicy(retries, backoff_s=0.001), breaker, random.Random(0))


def test_failures_are_classified_by_what_a_retry_could_change():
    assert classify(TransientError("HTTP 503")) == "transient"
    assert classify(ConnectionRefusedError()) == "transient"
    assert classify(TimeoutError()) == "transient"
    assert classify(RejectedRequest("HTTP 400")) == "rejected"
    assert classify(MemberError("malformed response")) == "failure"
    assert classify(KeyError("choices")) == "failure"


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(retries=10, backoff_s=0.5, max_backoff_s=4.0)
    rng = random.Random(1)
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = {policy.delay(retry, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not lockstep


async def test_a_transient_failure_is_retried_and_noted():
    attempt, notes = Attempts(TransientError("HTTP 503")), []
    assert await guard().call(attempt, on_retry=notes.append) == "ok"
    assert attempt.calls == 2
    assert "attempt 1 failed (TransientError: HTTP 503); retrying in" in notes[0]


async def test_retries_stop_after_the_configured_number():
    attempt = Attempts(*[ConnectionRefusedError("refused")] * 5)
    with pytest.raises(ConnectionRefusedError):
        await guard(retries=2).call(attempt)
    assert attempt.calls == 3


@pytest.mark.parametrize("error", [MemberError("malformed response: not JSON"), RejectedRequest("HTTP 400")])
async def test_malformed_answers_and_rejected_requests_are_not_retried(error):
    attempt = Attempts(error)
    with pytest.raises(type(error)):
        await guard().call(attempt)
    assert attempt.calls == 1


async def test_no_retry_when_the_pause_would_outlast_the_deadline():
    attempt = Attempts(TransientError("HTTP 503"))
    with pytest.raises(TransientError):
        await guard().call(attempt, seconds_left=lambda: 0.0001)
    assert attempt.calls == 1


async def test_the_circuit_opens_after_consecutive_failures_and_rejects_fast():
    clock = Clock()
    g = guard(retries=0, failures_to_open=2, clock=clock)
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            await g.call(Attempts(ConnectionRefusedError("refused")))
    assert g.breaker.state is CircuitState.OPEN
    never_called = Attempts()
    expected = (r"circuit open after 2 consecutive failures \(last: ConnectionRefusedError: refused\); "
                r"it is probed again in 10.0s")
    with pytest.raises(CircuitOpenError, match=expected):
        await g.call(never_called)
    assert never_called.calls == 0


async def test_an_open_circuit_stops_the_remaining_retries():
    attempt = Attempts(*[TransientError("HTTP 502")] * 5)
    with pytest.raises(CircuitOpenError):
        await guard(retries=4, failures_to_open=2).call(attempt)
    assert attempt.calls == 2


async def test_after_the_cooldown_one_probe_goes_through_and_success_closes():
    clock = Clock()
    g = guard(retries=0, failures_to_open=1, cooldown_s=5, clock=clock)
    with pytest.raises(TransientError):
        await g.call(Attempts(TransientError("down")))
    clock.now += 5
    assert g.breaker.state is CircuitState.HALF_OPEN
    release = asyncio.Event()

    async def slow_probe() -> str:
        await release.wait()
        return "up"

    probe = asyncio.create_task(g.call(slow_probe))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError, match="half-open, a probe call is in flight"):
        await g.call(Attempts())
    release.set()
    assert await probe == "up"
    assert g.breaker.state is CircuitState.CLOSED and g.breaker.failures == 0


async def test_a_failed_probe_opens_the_circuit_again():
    clock = Clock()
    g = guard(retries=3, failures_to_open=1, cooldown_s=5, clock=clock)
    with pytest.raises(CircuitOpenError):
        await g.call(Attempts(TransientError("down"), TransientError("down")))
    clock.now += 5
    probe = Attempts(TransientError("still down"), TransientError("still down"))
    with pytest.raises(CircuitOpenError, match="still down"):
        await g.call(probe)
    assert probe.calls == 1 and g.breaker.state is CircuitState.OPEN


async def test_rejected_requests_do_not_count_against_the_member():
    g = guard(retries=0, failures_to_open=2)
    for _ in range(3):
        with pytest.raises(RejectedRequest):
            await g.call(Attempts(RejectedRequest("HTTP 400: prompt too long")))
    assert g.breaker.state is CircuitState.CLOSED


async def test_a_cancelled_probe_leaves_the_next_call_free_to_probe():
    clock = Clock()
    g = guard(retries=0, failures_to_open=1, cooldown_s=1, clock=clock)
    with pytest.raises(TransientError):
        await g.call(Attempts(TransientError("down")))
    clock.now += 1
    probe = asyncio.create_task(g.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await g.call(Attempts()) == "ok"
    assert g.breaker.state is CircuitState.CLOSED


class RefusingBackend:
    """Always fails like a server that is down; counts the attempts it was given."""

    attempts = 0

    def __init__(self, member, runtime) -> None:
        pass

    supports_fim = False

    async def generate(self, prompt, params, cancel) -> list[Generation]:
        RefusingBackend.attempts += 1
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    async def aclose(self) -> None:
        return None


async def test_engine_skips_a_member_whose_circuit_is_open_and_the_others_answer():
    settings = settings_from_dict({"include_default_members": False, "members": {
        "down": {"backend": "refusing", "quality": 0.9, "retries": 1, "retry_backoff_s": 0.001,
                 "circuit_failures": 2, "circuit_cooldown_s": 60},
        "ok": {"backend": "scripted", "options": {"replies": ["x = 1"]}},
    }}, source="test")
    registry = scripted_registry()
    registry.register("backends", "refusing", RefusingBackend)
    engine = Engine(settings, registry)
    RefusingBackend.attempts = 0

    first = await engine.run(REQUEST, strategy="best-of")
    assert first.text.strip() == "x = 1" and RefusingBackend.attempts == 2
    assert any("member down: attempt 1 failed" in event for event in first.trace.events)
    assert "Connection refused" in next(c.error for c in first.trace.calls if c.member == "down")

    second = await engine.run(REQUEST, strategy="best-of")
    down = next(c for c in second.trace.calls if c.member == "down")
    assert "circuit open after 2 consecutive failures" in down.error
    assert RefusingBackend.attempts == 2 and down.seconds < 0.05
    assert second.text.strip() == "x = 1"
