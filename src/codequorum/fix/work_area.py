"""The private folders `fix` works in, removed when the run ends however it ends.

Each is made by `mkdtemp` (mode 0700: no other local user can read the project's copy while its
tests run). They are removed by the `finally` of the code that made them; what a signal or an
early exit leaves behind is removed at interpreter exit, and `removed_on_termination` turns
SIGTERM and SIGHUP into a normal exit so that both run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from codequorum.sandbox.identity import SANDBOX_GID, SANDBOX_UID, drops_privileges

PREFIX = "codequorum-"  # every work folder codequorum makes in the temporary directory
_TERMINATING = (signal.SIGTERM, signal.SIGHUP)
_live: set[Path] = set()
_lock = threading.Lock()


def new_work_dir(kind: str) -> Path:
    """A fresh private folder `codequorum-<kind>-*` in the temporary directory, tracked until
    `remove_work_dir`. Under root it belongs to the sandbox user, still 0700."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-"))
    with _lock:
        _live.add(path)
    if drops_privileges():
        os.chown(path, SANDBOX_UID, SANDBOX_GID)  # uid 65534 must walk in; nobody else may
    return path


def remove_work_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _live.discard(path)


def live_work_dirs() -> set[Path]:
    with _lock:
        return set(_live)


@atexit.register
def _remove_all() -> None:
    for path in live_work_dirs():
        remove_work_dir(path)


def is_work_area(path: Path) -> bool:
    """Whether `path` is a work folder of codequorum's (this run's or another's) in TMPDIR, or
    TMPDIR itself: never part of a project's copy."""
    temporary = Path(os.path.realpath(tempfile.gettempdir()))
    real = Path(os.path.realpath(path))
    return real == temporary or (real.parent == temporary and real.name.startswith(PREFIX))


@contextmanager
def removed_on_termination() -> Iterator[None]:
    """While inside: SIGTERM and SIGHUP exit normally (status 128 + N), so `finally` blocks and
    the exit handler remove the work folders. Only in the main thread; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _exit_on) for number in _TERMINATING}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _exit_on(number: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + number)
