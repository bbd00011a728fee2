"""The exit status of a run and the capped capture of its output."""

from __future__ import annotations

import os
import signal

import pytest

from codequorum.sandbox.process import Capture, exit_status

# --- exit status


@pytest.mark.parametrize("code, timed_out, sandboxed, expected", [
    (0, False, True, (0, None)),
    (3, False, True, (3, None)),
    (128 + signal.SIGKILL, False, True, (None, "SIGKILL")),
    (128 + signal.SIGXCPU, False, True, (None, "SIGXCPU")),
    (-signal.SIGKILL, False, False, (None, "SIGKILL")),
    (137, False, False, (137, None)),
    (-signal.SIGKILL, True, True, (None, "timeout")),
])
def test_exit_status(code: int, timed_out: bool, sandboxed: bool,
                     expected: tuple[int | None, str | None]) -> None:
    assert exit_status(code, timed_out, sandboxed) == expected


def test_capture_keeps_at_most_cap_bytes() -> None:
    capture = Capture(5)
    read, write = os.pipe()
    os.write(write, b"0123456789")
    os.close(write)

    class _Selector:
        def unregister(self, _: object) -> None: ...

    with os.fdopen(read, "rb") as pipe:
        capture.on_ready(_Selector(), pipe)  # type: ignore[arg-type]
    assert (bytes(capture.data), capture.truncated) == (b"01234", True)
