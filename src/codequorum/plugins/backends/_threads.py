"""Run blocking model work in a thread without losing the ability to cancel it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from codequorum.config import MemberConfig
from codequorum.core.scheduler import ComputeScheduler
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import GenerationParams

T = TypeVar("T")


async def run_cancellable(work: Callable[[], T], cancel: CancelToken) -> T:
    """Await `work` in a worker thread; if we are cancelled, tell it and wait for it to stop.

    Waiting matters: the thread holds the model (and a CPU slot) until it sees the token,
    so returning early would let the next request start on a busy model.
    """
    future = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancel.cancel()
        with contextlib.suppress(Exception):
            await future
        raise


async def run_local(scheduler: ComputeScheduler, priority: float, work: Callable[[], T],
                    cancel: CancelToken) -> T:
    """Local model work: wait for a CPU slot, then run it cancellably."""
    cancel.queued = True
    async with scheduler.slot(priority=priority):
        cancel.started = True
        return await run_cancellable(work, cancel)


def queue_priority(params: GenerationParams, member: MemberConfig) -> float:
    """Where a call waits in the CPU queue: as the request asks, else cheapest first."""
    return member.price_per_1k_tokens if params.queue_priority is None else params.queue_priority
