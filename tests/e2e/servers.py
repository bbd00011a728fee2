"""Real servers for end-to-end tests: llama.cpp's OpenAI-compatible server, the misbehaving
`fault_server.py`, and `codequorum serve --tcp` for the editors, each a child process on
127.0.0.1, always stopped by pid."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

FAULT_SERVER = Path(__file__).with_name("fault_server.py")
CODEQUORUM = Path(sys.executable).with_name("codequorum")
SERVER_EXTRA = "pip install 'llama-cpp-python[server]==0.3.36' (part of the `test` extra)"


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, int]:
        """What a fault server saw: requests and client hang-ups."""
        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=5).json()


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def llama_server(model: Path, port: int | None = None) -> Iterator[RunningServer]:
    """`python -m llama_cpp.server` on the model, ready to answer."""
    port = port or closed_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2"]
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: its logs must never block it
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            server = RunningServer(process, port)
            _wait_until_ready(server, log, timeout_s=90)
            yield server
        finally:
            _stop(process)


@contextmanager
def fault_server(mode: str, port: int = 0, sleep_s: float = 60.0) -> Iterator[RunningServer]:
    command = [sys.executable, str(FAULT_SERVER), "--mode", mode, "--port", str(port),
               "--sleep", str(sleep_s)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line.startswith("PORT "):
            pytest.fail(f"fault server did not start: {line!r} {process.stderr.read().decode()[-500:]}")
        yield RunningServer(process, int(line.split()[1]))
    finally:
        _stop(process)


@contextmanager
def tcp_server(config: Path, token_file: Path | None, log: Path, port: int = 0,
               extra: tuple[str, ...] = (), transport: str = "tcp") -> Iterator[str]:
    """`codequorum serve --tcp` (or `--ws`) on a loopback port (0: a free one), with `extra`
    arguments (--tls-cert ...); yields its address as announced (tcp://, tls://, ws://, wss://)."""
    token = ["--token-file", str(token_file)] if token_file else []
    with log.open("w") as sink:
        server = subprocess.Popen([str(CODEQUORUM), "serve", "--config", str(config), f"--{transport}",
                                   f"127.0.0.1:{port}", *token, *extra],
                                  stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not (found := re.search(r"serving LSP on ((?:tcp|tls|wss?)://\S+)", log.read_text())):
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield found[1]
        finally:
            server.terminate()
            server.wait(timeout=15)


def _wait_until_ready(server: RunningServer, log: IO[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log.seek(0)
            pytest.fail(f"llama_cpp.server exited ({server.process.returncode}); "
                        f"does it have its extra? {SERVER_EXTRA}\n{log.read().decode()[-1500:]}")
        try:
            if httpx.get(f"{server.base_url}/models", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server did not answer on port {server.port} within {timeout_s}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
