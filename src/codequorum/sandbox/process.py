"""Running the prepared command: the process group, the pump over its pipes, its exit status."""

from __future__ import annotations

import functools
import os
import selectors
import signal
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codequorum.sandbox.identity import identity_kwargs
from codequorum.sandbox.keyring import join_new_session_keyring
from codequorum.sandbox.limits import Rlimit, SandboxLimits, apply_rlimits

_GRACE_S = 2.0
_CHUNK = 65536


class Control:
    """Lets another thread cancel a run: kills its process group, now or as soon as it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def started(self, popen: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._popen = popen
            if self.cancelled:
                _kill_group(popen)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._popen is not None:
                _kill_group(self._popen)


def _kill_group(popen: subprocess.Popen[bytes]) -> None:
    # bwrap leads the group; killing it tears down its PID namespace, so every process inside dies.
    if popen.returncode is None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)


class Capture:
    """Keeps at most `cap` bytes of a stream, and keeps draining it so the child never blocks."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def on_ready(self, selector: selectors.BaseSelector, pipe: Any) -> None:
        chunk = os.read(pipe.fileno(), _CHUNK)
        if not chunk:
            selector.unregister(pipe)
            pipe.close()
            return
        room = max(self.cap - len(self.data), 0)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[:room]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Feeder:
    """Writes stdin without blocking, so a child that never reads cannot stall the run."""

    def __init__(self, pipe: Any, data: bytes) -> None:
        os.set_blocking(pipe.fileno(), False)
        self.rest = memoryview(data)

    def on_ready(self, selector: selectors.BaseSelector, pipe: Any) -> None:
        try:
            self.rest = self.rest[os.write(pipe.fileno(), self.rest[:_CHUNK]):]
        except BlockingIOError:
            return
        except BrokenPipeError:
            self.rest = self.rest[:0]
        if not self.rest:
            selector.unregister(pipe)
            pipe.close()


@dataclass
class Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    rlimits: tuple[Rlimit, ...]
    drop_privileges: bool


@dataclass
class Finished:
    returncode: int
    timed_out: bool
    stdout: Capture
    stderr: Capture
    seconds: float


def execute(launch: Launch, stdin: bytes | None, limits: SandboxLimits, control: Control) -> Finished:
    started = time.monotonic()
    popen = subprocess.Popen(
        launch.argv, cwd=launch.cwd, env=launch.env,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=functools.partial(_prepare_child, launch.rlimits),
        **identity_kwargs(launch.drop_privileges),
    )
    control.started(popen)
    try:
        timed_out, out, err = _pump(popen, stdin, started + limits.timeout_s, limits, control)
    finally:
        _kill_group(popen)  # no-op after a normal exit; after an error, nothing is left running
        popen.wait()
    return Finished(popen.returncode, timed_out, out, err, time.monotonic() - started)


def _prepare_child(values: tuple[Rlimit, ...]) -> None:
    """Between fork and exec: the rlimits, and a session keyring of the child's own."""
    apply_rlimits(values)
    join_new_session_keyring()


def _pump(popen: subprocess.Popen[bytes], stdin: bytes | None, deadline: float,
          limits: SandboxLimits, control: Control) -> tuple[bool, Capture, Capture]:
    """Read both streams until they close; past the deadline, kill the group and finish up."""
    assert popen.stdout is not None and popen.stderr is not None
    out, err = Capture(limits.max_output_bytes), Capture(limits.max_output_bytes)
    timed_out = killed = False
    with selectors.DefaultSelector() as selector:
        selector.register(popen.stdout, selectors.EVENT_READ, out)
        selector.register(popen.stderr, selectors.EVENT_READ, err)
        if popen.stdin is not None:
            feeder = _Feeder(popen.stdin, stdin or b"")
            selector.register(popen.stdin, selectors.EVENT_WRITE, feeder)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if killed:
                    break  # something outside the process group still holds the pipes
                timed_out, killed = not control.cancelled, True
                _kill_group(popen)
                deadline = time.monotonic() + _GRACE_S
                continue
            for key, _ in selector.select(remaining):
                key.data.on_ready(selector, key.fileobj)
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
    return timed_out, out, err


def exit_status(returncode: int, timed_out: bool, sandboxed: bool) -> tuple[int | None, str | None]:
    """(exit_code, killed_by). bwrap reports a command killed by signal N as exit code 128 + N."""
    if timed_out:
        return None, "timeout"
    signum = -returncode if returncode < 0 else None
    if sandboxed and 128 < returncode <= 128 + signal.SIGRTMAX:
        signum = returncode - 128
    if signum is None:
        return returncode, None
    try:
        return None, signal.Signals(signum).name
    except ValueError:
        return None, f"signal {signum}"
