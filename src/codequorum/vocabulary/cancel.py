"""Asking running work to stop."""

from __future__ import annotations

import threading


class CancelToken:
    """Set once to ask running work to stop between tokens; children follow their parent."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent
        # Set by work that waits for a shared resource (a CPU slot) before it starts, so a
        # trace can tell "queued, not started" from "started and too slow".
        self.queued = False
        self.started = False

    def cancel(self) -> None:
        self._event.set()

    def child(self) -> CancelToken:
        return CancelToken(parent=self)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)
