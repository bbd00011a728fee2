"""Stop awaiting network work as soon as a CancelToken is set, even while nothing arrives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from codequorum.vocabulary.cancel import CancelToken

POLL_S = 0.05  # the token is a thread-safe flag without a wake-up: look at it this often


async def stop_on_token(work: Coroutine[Any, Any, None], cancel: CancelToken) -> bool:
    """Run `work`; if the token is set first, cancel it. True when it ran to the end.

    Cancelling the task makes it leave its `async with` blocks, which closes an HTTP stream
    that a stalled server was holding open: the server sees the hang-up and stops.
    """
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            if cancel.cancelled:
                await _cancel(task)
                return False
            await asyncio.wait({task}, timeout=POLL_S)
    except asyncio.CancelledError:
        await _cancel(task)
        raise
    task.result()  # its exception, if it failed
    return True


async def _cancel(task: asyncio.Future[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
