"""How ready the whole server process is, for a supervisor or load balancer (`GET /healthz`).

`starting`: listening, no model loaded yet (models load when the first client initializes);
`loading`: a warm-up is loading members' models; `ready`: the last warm-up finished;
`error`: the last warm-up failed (the message says why). Editors hear the same about their own
session through `codequorum/status` (server/features/status.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["starting", "loading", "ready", "error"]


@dataclass
class Health:
    started_at: float = field(default_factory=time.monotonic)
    _loading: int = 0
    _last: State = "starting"
    _message: str | None = None
    _warm_up_seconds: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def warm_up_started(self) -> None:
        with self._lock:
            self._loading += 1

    def warm_up_ended(self, seconds: float | None, error: str | None = None) -> None:
        with self._lock:
            self._loading = max(0, self._loading - 1)
            self._last = "error" if error else "ready"
            self._message = error
            self._warm_up_seconds = seconds

    def warm_up_abandoned(self) -> None:
        """The session left before its warm-up ended: what was known before stands."""
        with self._lock:
            self._loading = max(0, self._loading - 1)

    def ready_without_warm_up(self) -> None:
        with self._lock:
            if self._last == "starting":
                self._last = "ready"

    @property
    def state(self) -> State:
        with self._lock:
            return "loading" if self._loading else self._last

    def report(self, connections: int) -> dict[str, Any]:
        state = self.state
        with self._lock:
            report: dict[str, Any] = {"state": state, "uptime_s": round(time.monotonic() - self.started_at, 1),
                                      "connections": connections}
            if self._warm_up_seconds is not None:
                report["warm_up_seconds"] = self._warm_up_seconds
            if self._message and state == "error":
                report["message"] = self._message
        return report
