"""The outcome of one sandboxed run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class SandboxResult:
    """exit_code is None when the process did not exit by itself; killed_by then says why:
    "timeout" (the wall-clock limit) or a signal name such as "SIGKILL" or "SIGXCPU"."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    killed_by: str | None
    seconds: float
    stdout_truncated: bool
    stderr_truncated: bool
    sandboxed: bool

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_json_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
