"""A live Unix socket or a FIFO in a caller's work dir is not reachable from the sandbox (REAL sandbox).

The host listens on a socket and reads a FIFO in the work dir it hands to `Sandbox.run`; the
program inside tries both where the copy has them (its cwd) and where the host dir itself is
mounted (the read-only seed), and the host checks that it heard nothing.

These tests fail (never skip) when bubblewrap is missing or cannot create a sandbox.
"""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.sandbox import Sandbox, SandboxLimits
from codequorum.sandbox.argv import SEED_PATH
from tests.dirs import searchable_dir
from tests.e2e.test_sandbox_bwrap import real_bubblewrap

pytestmark = pytest.mark.e2e

__all__ = ["real_bubblewrap"]  # the module-scoped, autouse "bubblewrap must work" fixture

LIMITS = SandboxLimits(timeout_s=10, cpu_s=5, memory_mb=256, work_size_mb=16)
REACH = textwrap.dedent(f"""
    import os, socket
    for base in (".", "{SEED_PATH}"):
        path = os.path.join(base, "live.sock")
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(path)
                client.sendall(b"CONNECTED")
                print("CONNECTED", path)
        except OSError as error:
            print("refused", path, type(error).__name__)
        try:
            fd = os.open(os.path.join(base, "pipe"), os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"WROTE")
            print("WROTE", base)
        except OSError as error:
            print("refused fifo", base, type(error).__name__)
    print(open("data.txt").read())
""")


@pytest.fixture
def workdir() -> Iterator[Path]:
    with searchable_dir("cq-special-") as path:
        yield path


def test_a_live_socket_and_a_fifo_in_the_work_dir_stay_out_of_reach(workdir: Path) -> None:
    (workdir / "data.txt").write_text("the rest is copied\n")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(workdir / "live.sock"))
    listener.listen()
    listener.setblocking(False)
    os.mkfifo(workdir / "pipe")
    reader = os.open(workdir / "pipe", os.O_RDONLY | os.O_NONBLOCK)  # the host reads it
    os.chmod(workdir / "live.sock", 0o777)
    os.chmod(workdir / "pipe", 0o666)
    try:
        result = Sandbox(LIMITS).run(["/usr/bin/python3", "-I", "-c", REACH], workdir=workdir)
        assert result.sandboxed and result.exit_code == 0, result
        with pytest.raises(BlockingIOError):
            listener.accept()
        assert _available(reader) == b""
    finally:
        listener.close()
        os.close(reader)
    assert "CONNECTED" not in result.stdout and "WROTE" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 4 and "the rest is copied" in result.stdout
    assert (workdir / "live.sock").is_socket() and (workdir / "pipe").is_fifo()  # the host's stay


def _available(fd: int) -> bytes:
    try:
        return os.read(fd, 100)  # b"" once no writer is left, and none ever wrote
    except BlockingIOError:
        return b""
