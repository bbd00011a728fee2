"""What an editor's status bar shows of the server: how far it is from answering
(`codequorum/status`), and what a user can choose for completions (`codequorum.choices`).

After `initialized` the session loads its completion members' models in the background (the
warm-up, seconds to minutes). The server notifies `{"state": "loading"}` when it starts and
`{"state": "ready", "seconds": ...}` (or `{"state": "error", "message": ...}`) when it ends; with
`server.warm_up = false` it says `ready` at once and the models load on the first request.

`codequorum.choices` (no arguments, read-only) answers the strategies and enabled members a
client can pick from for inline completions, the current `inline_strategy` / `inline_members`,
and `default_strategy`: what inline completions use when the client picks none (the server's
configuration file: its `[server] inline_strategy`, else `[engine] strategy`). The client changes
them with workspace/didChangeConfiguration.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any, Literal

from codequorum.server.lsp_server import CodequorumServer

STATUS_NOTIFICATION = "codequorum/status"  # params: Status, server to client
CHOICES_COMMAND = "codequorum.choices"  # no arguments; returns the completion choices

State = Literal["loading", "ready", "error"]


@dataclass(frozen=True)
class Status:
    state: State
    seconds: float | None = None  # how long the warm-up took (ready)
    message: str | None = None  # what went wrong (error)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def register(server: CodequorumServer) -> None:
    server.command(CHOICES_COMMAND)(choices)


async def choices(ls: CodequorumServer, *args: Any) -> dict[str, Any]:
    settings = ls.session.settings
    configured = ls.session.context.source.settings()  # without the client's options
    return {
        "strategies": ls.session.engine.runtime.registry.names("strategies"),
        "members": [member.name for member in settings.enabled_members()],
        "inline_strategy": settings.server.inline_strategy,
        "inline_members": settings.server.inline_members,
        "default_strategy": configured.server.inline_strategy or configured.engine.strategy,
    }


def warm_up(ls: CodequorumServer) -> None:
    """Start the session's warm-up and tell the client while it runs."""
    health = ls.session.context.health
    task = ls.session.warm_up()
    if task is None:
        health.ready_without_warm_up()
        publish(ls, Status("ready"))
        return
    health.warm_up_started()
    publish(ls, Status("loading"))
    task.add_done_callback(lambda done: _warmed_up(ls, done))


def publish(ls: CodequorumServer, status: Status) -> None:
    ls.protocol.notify(STATUS_NOTIFICATION, status.to_json())


def _warmed_up(ls: CodequorumServer, task: asyncio.Task[None]) -> None:
    health = ls.session.context.health
    if task.cancelled():
        health.warm_up_abandoned()
        return  # the session is closing: nobody to tell
    error = task.exception()
    seconds = ls.session.stats.warm_up_seconds
    if error is None:
        health.warm_up_ended(seconds)
        publish(ls, Status("ready", seconds=seconds))
    else:
        message = (f"codequorum: loading the models failed: {error}. "
                   "Run `codequorum models install`, then check the server's log.")
        health.warm_up_ended(seconds, message)
        publish(ls, Status("error", message=message))
