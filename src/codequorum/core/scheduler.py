"""Local CPU models share the machine's cores: decide what runs at once.

Two llama.cpp models decoding in parallel on 2 cores both slow to a crawl, so local
generations take a slot; waiters are served cheapest-first, so a cascade's cheap step
is never stuck behind an expensive call that was queued after it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ComputeScheduler:
    def __init__(self, slots: int = 1) -> None:
        self.slots = slots
        self._busy = 0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: float = 0.0) -> AsyncIterator[None]:
        """Hold one slot; lower priority values are served first, ties in arrival order."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        if self._busy < self.slots:
            # Reserve the free slot and grant it on the next loop turn, once every member a
            # strategy started together has queued: the cheapest of them goes first.
            self._busy += 1
            loop.call_soon(self._release)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # we were handed the slot just as we were cancelled
            raise

    def _release(self) -> None:
        while self._waiters:
            _priority, _order, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # hand the slot over directly
                return
        self._busy -= 1
