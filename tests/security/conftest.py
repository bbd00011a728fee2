"""Security tests: a real `codequorum serve` standing in for the server under attack.

The server runs for the whole module with a secret in its environment and on its command line,
so that attacks can aim at it (its pid, its /proc entries, its port) and every test can check
afterwards that it is still alive and still answers LSP requests.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CODEQUORUM = str(Path(sys.executable).with_name("codequorum"))
SERVER_SECRET = f"cq-server-secret-{uuid.uuid4().hex}"
SERVER_TOKEN = f"cq-token-{uuid.uuid4().hex}"


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def receive(reader: Any) -> dict[str, Any]:
    length = None
    while (line := reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise ConnectionError("the server closed the connection")
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    assert length is not None, "a message without Content-Length"
    return json.loads(reader.read(length))


def request(sock: socket.socket, reader: Any, msg_id: int, method: str, params: Any) -> dict[str, Any]:
    """Send a request and return its response, skipping the server's notifications."""
    send(sock, {"id": msg_id, "method": method, "params": params})
    while True:
        message = receive(reader)
        if message.get("id") == msg_id and "method" not in message:
            return message


@dataclass
class RunningServer:
    """`codequorum serve --tcp` as a child process, its log collected by a thread."""

    process: subprocess.Popen[bytes]
    port: int
    token: str | None
    log: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def initialize(self, token: object = None, timeout: float = 20) -> dict[str, Any]:
        """A fresh connection's initialize response (the token as given)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            reader = sock.makefile("rb")
            options = None if token is None else {"token": token}
            return request(sock, reader, 1, "initialize",
                           {"processId": None, "capabilities": {}, "initializationOptions": options})

    def assert_healthy(self) -> None:
        """Alive, accepting connections, and answering initialize and codequorum.stats."""
        assert self.process.poll() is None, f"the server died: {self.process.returncode}\n{self.tail()}"
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            reader = sock.makefile("rb")
            options = {"token": self.token} if self.token else None
            reply = request(sock, reader, 1, "initialize",
                            {"processId": os.getpid(), "capabilities": {}, "initializationOptions": options})
            assert reply["result"]["serverInfo"]["name"] == "codequorum", reply
            send(sock, {"method": "initialized", "params": {}})
            stats = request(sock, reader, 2, "workspace/executeCommand", {"command": "codequorum.stats"})
            assert "requests" in stats.get("result", {}), stats

    def tail(self) -> str:
        return "".join(self.log[-40:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(config: Path, *args: str, env: dict[str, str] | None = None,
                 token: str | None = None, verbose: bool = False) -> RunningServer:
    """Start `codequorum [-v] serve --tcp 127.0.0.1:0 ARGS` and wait for the port it announces."""
    command = [CODEQUORUM, *(["--verbose"] if verbose else []), "serve", "--tcp", "127.0.0.1:0",
               "--config", str(config), *args]
    return start_process(command, env=env, token=token)


def start_process(command: list[str], *, env: dict[str, str] | None = None,
                  token: str | None = None) -> RunningServer:
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    assert process.stderr is not None
    log: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline().decode(errors="replace")
        if not line:
            break
        log.append(line)
        if match := re.search(r"serving LSP on \w+://[^ ]+:(\d+)", line):
            server = RunningServer(process, int(match.group(1)), token, log)
            threading.Thread(target=_drain, args=(process.stderr, log), daemon=True).start()
            return server
    process.kill()
    process.wait()
    raise AssertionError(f"the server did not announce a port: {''.join(log)[-2000:]}")


def _drain(stream: Any, log: list[str]) -> None:
    for raw in stream:
        log.append(raw.decode(errors="replace"))


@pytest.fixture(scope="module")
def server_dir() -> Iterator[Path]:
    # The secret is in the directory name, so it is on the server's command line (--config PATH).
    path = Path(tempfile.mkdtemp(prefix=f"cq-security-{SERVER_SECRET}-"))
    (path / "codequorum.toml").write_text("[server]\nwarm_up = false\nfeedback = false\n")
    (path / "token").write_text(SERVER_TOKEN + "\n")
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


@pytest.fixture(scope="module")
def server(server_dir: Path) -> Iterator[RunningServer]:
    """The server under attack: a real `codequorum serve --tcp`, no model loaded."""
    env = {**os.environ, "CODEQUORUM_SERVER_SECRET": SERVER_SECRET}
    running = start_server(server_dir / "codequorum.toml", "--token-file", str(server_dir / "token"),
                           env=env, token=SERVER_TOKEN)
    try:
        running.assert_healthy()
        yield running
    finally:
        running.stop()
