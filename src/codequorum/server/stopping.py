"""Await an engine run so that cancelling the awaiting task stops the models, not just the reply.

Cancelling a task only interrupts its `await`; the run's backends learn of it through their
CancelToken. So a cancelled caller sets the token and waits for the run to end (backends stop
at their next token), which also hands back the trace of what was done before the stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.result import Result

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0  # how long a stopped run may take to notice its token before it is killed


async def run_stoppable(
    work: Awaitable[Result],
    token: CancelToken,
    on_stopped: Callable[[Result], object] | None = None,
) -> Result:
    run = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(run)
    except asyncio.CancelledError:
        stopped = await _stop(run, token)
        if stopped is not None and on_stopped is not None:
            on_stopped(stopped)
        raise


async def _stop(run: asyncio.Future[Result], token: CancelToken) -> Result | None:
    token.cancel()
    done, _ = await asyncio.wait({run}, timeout=STOP_GRACE_S)
    if run not in done:
        log.warning("a stopped run did not end within %.0fs; cancelling it", STOP_GRACE_S)
        run.cancel()
        return None
    return None if run.cancelled() or run.exception() else run.result()
