"""One network client's connection, which a session can close (after a failed token check,
or at `exit`) without stopping the server for everyone else."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Connection:
    writer: Any  # what pygls writes responses to: a StreamWriter or a WebSocketWriter
    stopped: threading.Event = field(default_factory=threading.Event)  # ends pygls' read loop

    def close(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        closing = self.writer.close()
        if asyncio.iscoroutine(closing):
            asyncio.ensure_future(closing)

    def stop(self) -> None:
        """The transport is already gone (aborted): only end the read loop."""
        self.stopped.set()
