"""Exhausting the server before (and after) the token check, against a real `codequorum serve`.

Each attack runs on its own server, started with small `[server]` limits so that the tests
are quick; from the host they check that the attack was cut (the socket closed, the body not
read, the queue not kept), that the server's memory and descriptors stayed bounded, and that
a client holding the token is still served.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.conftest import (
    SERVER_TOKEN,
    RunningServer,
    send,
    start_process,
    start_server,
)
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

CONFIG = """
[server]
warm_up = false
feedback = false
handshake_timeout_s = 1.5
max_connections = 12
max_unauthenticated = 4
initialize_max_message_kb = 64
max_message_mb = 8
write_queue_mb = 1
"""


def write_files(tmp_path: Path) -> Path:
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG)
    (tmp_path / "token").write_text(SERVER_TOKEN)
    return config


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    config = write_files(tmp_path)
    running = start_server(config, "--token-file", str(tmp_path / "token"), token=SERVER_TOKEN)
    yield running
    running.stop()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True once the server has closed `sock` (EOF or reset), False if still open at `timeout`."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def authenticated_client(port: int) -> WireClient:
    client = WireClient.connect(port)
    reply = client.initialize({"token": SERVER_TOKEN})
    assert reply["result"]["serverInfo"]["name"] == "codequorum", reply
    return client


def test_a_silent_socket_is_dropped_after_the_handshake_timeout(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    started = time.monotonic()
    assert closed_by_server(sock, timeout=10), "a silent socket was kept"
    assert time.monotonic() - started < 5
    sock.close()
    server.assert_healthy()


def test_hundreds_of_silent_sockets_lock_nobody_out(server):
    baseline = open_descriptors(server.pid)
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(300)]
    try:
        client = authenticated_client(server.port)  # while the 300 are still open on our side
        assert "requests" in client.command("codequorum.stats")["result"]
        held = open_descriptors(server.pid)
        client.close()
    finally:
        for sock in silent:
            sock.close()
    assert held - baseline <= 12 + 2, f"the server holds {held - baseline} more descriptors"
    server.assert_healthy()


def test_a_huge_content_length_before_initialize_is_refused_without_reading_the_body(server):
    before = rss_mib(server.pid)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"Content-Length: %d\r\n\r\n" % (1 << 40))
    sent = 0
    try:
        chunk = b"x" * (1 << 20)
        sock.settimeout(10)
        for _ in range(64):
            sock.sendall(chunk)
            sent += len(chunk)
    except (ConnectionResetError, BrokenPipeError, TimeoutError):
        pass
    assert closed_by_server(sock, timeout=10)
    sock.close()
    assert rss_mib(server.pid) - before < 16, "the body was read"
    server.assert_healthy()


def test_an_initialize_larger_than_the_small_limit_is_refused(server):
    client = WireClient.connect(server.port)
    padding = "p" * (100 * 1024)  # over initialize_max_message_kb = 64
    send(client.sock, {"id": 1, "method": "initialize", "params": {
        "processId": None, "capabilities": {}, "initializationOptions": {"token": SERVER_TOKEN, "x": padding}}})
    assert closed_by_server(client.sock, timeout=10)
    client.close()
    server.assert_healthy()


def test_an_initialized_client_may_send_a_large_document(server):
    client = authenticated_client(server.port)
    try:
        text = "value = 1\n" * (400 * 1024)  # 4 MiB, under max_message_mb = 8
        client.open("file:///tmp/cq-large.py", text)
        reply = client.request("textDocument/codeAction", {
            "textDocument": {"uri": "file:///tmp/cq-large.py"},
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}},
            "context": {"diagnostics": []}})
        assert "result" in reply, reply
    finally:
        client.close()


def test_a_client_that_never_reads_is_disconnected_and_memory_stays_bounded(server):
    client = WireClient.connect(server.port)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert "result" in client.initialize({"token": SERVER_TOKEN})
    before = rss_mib(server.pid)
    request = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "workspace/executeCommand",
                          "params": {"command": "codequorum.stats"}}).encode()
    framed = b"Content-Length: %d\r\n\r\n" % len(request) + request
    batch = framed * 2000
    disconnected = False
    client.sock.settimeout(5)
    try:
        for _ in range(100):  # up to 200,000 requests, about 100 MiB of answers never read
            client.sock.sendall(batch)
    except (ConnectionResetError, BrokenPipeError, TimeoutError):
        disconnected = True
    grown = rss_mib(server.pid) - before
    if not disconnected:
        disconnected = closed_by_server(client.sock, timeout=20)
    client.close()
    assert disconnected, "the server kept queueing answers for a client that does not read"
    assert grown < 48, f"the server grew by {grown:.0f} MiB"
    time.sleep(1.0)  # the flood emptied this token's rate-limit bucket (user_requests_per_second)
    server.assert_healthy()


def test_websocket_messages_follow_the_limits(tmp_path):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    config = write_files(tmp_path)
    command = [str(Path(os.sys.executable).with_name("codequorum")), "serve", "--ws", "127.0.0.1:0",
               "--config", str(config), "--token-file", str(tmp_path / "token")]
    server = start_process(command, token=SERVER_TOKEN)

    def message(msg_id: int | None, method: str, params: object) -> str:
        body = {"jsonrpc": "2.0", "method": method, "params": params}
        return json.dumps(body | ({"id": msg_id} if msg_id is not None else {}))

    async def scenario() -> None:
        uri = f"ws://127.0.0.1:{server.port}"
        async with connect(uri, max_size=None) as early:  # a large message before initialize
            await early.send(message(1, "initialize", {"processId": None, "capabilities": {},
                                                       "initializationOptions": {"x": "p" * 200_000}}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(early.recv(), 10)
        async with connect(uri, max_size=None) as client:
            await client.send(message(1, "initialize", {"processId": None, "capabilities": {},
                                                        "initializationOptions": {"token": SERVER_TOKEN}}))
            assert "result" in json.loads(await asyncio.wait_for(client.recv(), 10))
            await client.send(message(None, "initialized", {}))
            text = "value = 1\n" * (600 * 1024)  # 6 MiB: once over pygls' 1 MiB frame limit
            await client.send(message(None, "textDocument/didOpen", {"textDocument": {
                "uri": "file:///tmp/cq-ws.py", "languageId": "python", "version": 1, "text": text}}))
            await client.send(message(2, "workspace/executeCommand", {"command": "codequorum.stats"}))
            while True:
                reply = json.loads(await asyncio.wait_for(client.recv(), 20))
                if reply.get("id") == 2:
                    break
            assert "requests" in reply["result"], reply

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
