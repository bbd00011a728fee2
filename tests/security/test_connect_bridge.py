"""`codequorum connect` against hostile servers on 127.0.0.1 (a real bridge process, real
sockets): a Content-Length of a terabyte, a WebSocket message over the limit, and a flood the
editor does not read must not make it hold more than a message; the token reaches the server
inside `initialize` and never appears on a command line (the bridge's, or the one the Neovim
plugin builds) or in what the bridge prints."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT
from tests.security.conftest import CODEQUORUM

pytestmark = pytest.mark.e2e

TOKEN = f"cq-bridge-token-{uuid.uuid4().hex}"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "capabilities": {}, "initializationOptions": None}}


def framed(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_framed(reader: Any) -> dict[str, Any]:
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(reader.read(length))


@contextmanager
def hostile_tcp(behave: Callable[[socket.socket, dict[str, Any]], None]) -> Iterator[tuple[int, list[dict]]]:
    """A server on loopback that reads the bridge's first message, then does `behave`."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[dict[str, Any]] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            received.append(read_framed(connection.makefile("rb")))
            try:
                behave(connection, received[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        listener.close()
        thread.join(timeout=15)


def bridge(address: str, *args: str, verbose: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CODEQUORUM_TOKEN": TOKEN}
    command = [CODEQUORUM, *(["--verbose"] if verbose else []), "connect", address, *args]
    return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def start(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.write(framed(INITIALIZE))
    process.stdin.flush()


def finish(process: subprocess.Popen[bytes], timeout: float = 20) -> tuple[int, bytes, str]:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError("the bridge did not stop") from None
    assert process.stdout is not None and process.stderr is not None
    return process.returncode, process.stdout.read(), process.stderr.read().decode()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_terabyte_content_length_from_the_server_is_refused_without_reading_it():
    def announce_a_terabyte(connection: socket.socket, _: dict[str, Any]) -> None:
        connection.sendall(b"Content-Length: 1099511627776\r\n\r\n" + b"x" * 65536)
        time.sleep(10)  # and never close: the bridge must leave by itself

    with hostile_tcp(announce_a_terabyte) as (port, _):
        process = bridge(f"tcp://127.0.0.1:{port}")
        start(process)
        code, out, err = finish(process)
    assert code == 1 and out == b"", err
    assert "sent a message of 1099511627776 bytes, over the limit of 67108864" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_endless_header_line_is_refused():
    def endless_header(connection: socket.socket, _: dict[str, Any]) -> None:
        for _ in range(200):
            connection.sendall(b"X" * 65536)

    with hostile_tcp(endless_header) as (port, _):
        process = bridge(f"tcp://127.0.0.1:{port}")
        start(process)
        code, out, err = finish(process)
    assert code == 1 and out == b"" and "a header line longer than 4096 bytes" in err, err


def test_a_flood_the_editor_does_not_read_stays_in_the_socket_buffers():
    sent = [0]
    message = framed({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 3, "message": "y" * 4000}})

    def flood(connection: socket.socket, _: dict[str, Any]) -> None:
        connection.settimeout(4)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            connection.sendall(message)  # blocks once the bridge stops reading
            sent[0] += len(message)

    with hostile_tcp(flood) as (port, _):
        process = bridge(f"tcp://127.0.0.1:{port}")  # its stdout is never read
        start(process)
        time.sleep(3)
        rss = rss_mib(process.pid)
        process.kill()
        process.wait()
    assert sent[0] < 32 * 1024 * 1024, f"the server could send {sent[0]} bytes"
    assert rss < 150, f"the bridge holds {rss:.0f} MiB"


def test_a_websocket_message_over_the_limit_is_refused():
    from websockets.sync.server import serve

    def oversized(websocket: Any) -> None:
        websocket.recv()
        with pytest.raises(Exception):  # noqa: B017 - the bridge closes on it
            websocket.send(b"{" + b" " * (2 * 1024 * 1024) + b"}")
            websocket.recv()

    with serve(oversized, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        process = bridge(f"ws://127.0.0.1:{port}/", "--max-message-mb", "1")
        start(process)
        code, out, err = finish(process)
        server.shutdown()
    assert code == 1 and out == b"", err
    assert "sent a WebSocket message over the limit of 1048576 bytes" in err, err


def test_the_token_reaches_the_server_and_never_a_command_line_or_the_log():
    def refuse(connection: socket.socket, initialize: dict[str, Any]) -> None:
        connection.sendall(framed({"jsonrpc": "2.0", "id": initialize["id"], "error": {
            "code": -32001, "message": "codequorum: wrong token: this server requires initializationOptions.token"}}))

    with hostile_tcp(refuse) as (port, received):
        process = bridge(f"tcp://127.0.0.1:{port}", verbose=True)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        start(process)
        code, out, err = finish(process)
    assert received[0]["params"]["initializationOptions"] == {"token": TOKEN}
    assert code == 3 and "refused the token" in err, err
    assert TOKEN.encode() not in cmdline and TOKEN not in err
    assert read_framed(io.BytesIO(out))["error"]["code"] == -32001


def test_there_is_no_option_to_pass_the_token_itself():
    done = subprocess.run([CODEQUORUM, "connect", "tcp://127.0.0.1:9", "--token", TOKEN],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "No such option" in done.stderr


PLUGIN_COMMAND = """
vim.env.CQ_SECRET = vim.env.CQ_SECRET_VALUE
local remote = require("codequorum.remote")
local cmd = remote.bridge_cmd({ cmd = { "codequorum", "serve" }, address = "wss://models.example/",
  token_env = "CQ_SECRET", token_file = vim.env.CQ_TOKEN_FILE, remote_ca_file = "/etc/ssl/ca.pem" })
vim.fn.writefile({ vim.fn.json_encode(cmd) }, vim.env.CQ_OUT)
vim.cmd("qall!")
"""


def test_the_neovim_plugin_never_puts_the_token_on_the_bridge_s_command_line(tmp_path):
    nvim = shutil.which("nvim")
    assert nvim is not None, "nvim is not installed: run `bash scripts/system-deps.sh`"
    script, out, token_file = tmp_path / "cmd.lua", tmp_path / "cmd.json", tmp_path / "token"
    script.write_text(PLUGIN_COMMAND)
    token_file.write_text(TOKEN)
    env = {**os.environ, "CQ_SECRET_VALUE": TOKEN, "CQ_TOKEN_FILE": str(token_file), "CQ_OUT": str(out)}
    subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "--cmd",
                    f"set runtimepath^={ROOT / 'editors' / 'neovim'}", "-c", f"luafile {script}"],
                   env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=True)
    command = json.loads(out.read_text())
    assert command == ["codequorum", "connect", "wss://models.example/", "--token-env", "CQ_SECRET",
                       "--token-file", str(token_file), "--ca-file", "/etc/ssl/ca.pem"]
    assert TOKEN not in json.dumps(command)
