"""Surviving member failures: retries with backoff for transient errors, a circuit breaker.

Applied once, on the member call path (`Member.generate`), so every backend gets the same
behaviour. Backends only say what kind of failure they saw, by the error they raise:

- `TransientError` (or a built-in `ConnectionError` / `TimeoutError`): the member may answer
  next time (connection refused or reset, HTTP 5xx/429, a read timeout). Retried with
  exponential backoff and jitter while the request's deadline leaves time, and counted by the
  circuit breaker.
- `RejectedRequest`: the member is healthy but refused this request (HTTP 400, a prompt too
  long for it). Neither retried nor counted.
- anything else (a malformed response, a missing model file): not retried, counted.

Cancellation (the request's deadline, the user typing on) is neither: it propagates at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, TypeVar

from codequorum.config import MemberConfig
from codequorum.vocabulary.errors import MemberError

T = TypeVar("T")
Failure = Literal["transient", "rejected", "failure"]

MAX_BACKOFF_S = 8.0


class TransientError(MemberError):
    """The member may answer if asked again soon: worth a retry."""


class RejectedRequest(MemberError):
    """The member refused this request but is healthy: no retry, no mark against it."""


class CircuitOpenError(MemberError):
    """The member failed too often lately and is skipped without being called."""


def classify(error: BaseException) -> Failure:
    if isinstance(error, RejectedRequest):
        return "rejected"
    if isinstance(error, TransientError | ConnectionError | TimeoutError):
        return "transient"
    return "failure"


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    backoff_s: float
    max_backoff_s: float = MAX_BACKOFF_S

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number `retry` (0-based): doubling, with "equal jitter".

        Half the delay is fixed and half random, so callers that failed together spread out
        instead of hammering a recovering server in lockstep.
        """
        ceiling = min(self.max_backoff_s, self.backoff_s * 2.0**retry)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class CircuitState(str, Enum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are rejected at once until the cooldown has passed
    HALF_OPEN = "half-open"  # one probe call goes through; its outcome decides


@dataclass
class CircuitBreaker:
    """Per member: opens after `failures_to_open` consecutive failed attempts (0 = never)."""

    member: str
    failures_to_open: int
    cooldown_s: float
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    last_error: str = ""
    _opened_at: float | None = None
    _probing: bool = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self.clock() - self._opened_at < self.cooldown_s:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def admit(self) -> None:
        """Let one attempt through, or raise CircuitOpenError saying why and for how long."""
        state = self.state
        if state is CircuitState.CLOSED:
            return
        if state is CircuitState.OPEN:
            assert self._opened_at is not None
            wait = self.cooldown_s - (self.clock() - self._opened_at)
            raise CircuitOpenError(
                f"member {self.member} skipped: circuit open after {self.failures} consecutive "
                f"failures (last: {self.last_error}); it is probed again in {wait:.1f}s"
            )
        if self._probing:
            raise CircuitOpenError(
                f"member {self.member} skipped: circuit half-open, a probe call is in flight "
                f"(last failure: {self.last_error})"
            )
        self._probing = True

    def succeeded(self) -> None:
        self.failures, self.last_error = 0, ""
        self._opened_at, self._probing = None, False

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        self.last_error = describe(error)
        if self._probing or (self.failures_to_open and self.failures >= self.failures_to_open):
            self._opened_at = self.clock()
        self._probing = False

    def abandoned(self) -> None:
        """The attempt was cancelled: it proves nothing, so the next call may probe."""
        self._probing = False


@dataclass
class MemberGuard:
    """Runs one member's calls through its retry policy and circuit breaker."""

    policy: RetryPolicy
    breaker: CircuitBreaker
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def for_member(cls, config: MemberConfig) -> MemberGuard:
        return cls(
            policy=RetryPolicy(config.retries, config.retry_backoff_s),
            breaker=CircuitBreaker(config.name, config.circuit_failures, config.circuit_cooldown_s),
        )

    async def call(
        self,
        attempt: Callable[[], Awaitable[T]],
        seconds_left: Callable[[], float | None] = lambda: None,
        on_retry: Callable[[str], None] = lambda note: None,
    ) -> T:
        """`attempt()` until it succeeds, retrying transient failures while time remains."""
        retry = 0
        while True:
            self.breaker.admit()
            try:
                result = await attempt()
            except asyncio.CancelledError:
                self.breaker.abandoned()
                raise
            except Exception as error:
                delay = self._retry_delay(error, retry, seconds_left)
                if delay is None:
                    raise
                on_retry(
                    f"member {self.breaker.member}: attempt {retry + 1} failed "
                    f"({describe(error)}); retrying in {delay:.2f}s"
                )
                await asyncio.sleep(delay)
                retry += 1
            else:
                self.breaker.succeeded()
                return result

    def _retry_delay(
        self, error: Exception, retry: int, seconds_left: Callable[[], float | None]
    ) -> float | None:
        """Record the failure; the pause before the next attempt, or None to give up."""
        kind = classify(error)
        if kind == "rejected":
            self.breaker.succeeded()  # it answered coherently: it is up
        else:
            self.breaker.failed(error)
        if kind != "transient" or retry >= self.policy.retries:
            return None
        delay = self.policy.delay(retry, self.rng)
        left = seconds_left()
        return None if left is not None and delay >= left else delay


def describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
