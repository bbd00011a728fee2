"""`codequorum serve --tcp/--ws`: the real server process, its token check and its sessions.

No completion is asked for, so no model is loaded (warm-up is off)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException
from pytest_lsp import make_test_lsp_client

from tests.e2e.conftest import run_cli
from tests.e2e.lsp_session import initialize, start_network_server, stats

pytestmark = [pytest.mark.e2e]

TOKEN = "correct-horse-battery-staple"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "codequorum.toml"
    path.write_text("[server]\nwarm_up = false\nfeedback = false\n")
    return path


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
async def tcp_server(config, token_file):
    process, port = await start_network_server(
        "--tcp", "127.0.0.1:0", "--token-file", str(token_file), "--config", str(config))
    yield port
    process.terminate()
    await process.wait()


class RawClient:
    """JSON-RPC over a bare socket: messages a well-behaved client library would not send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, msg_id: int, method: str, params: object) -> dict:
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        self.writer.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        async with asyncio.timeout(30):
            length = int((await self.reader.readline()).split(b":")[1])
            while (await self.reader.readline()).strip():
                pass
            return json.loads(await self.reader.readexactly(length))

    async def initialize(self, options: dict | None) -> dict:
        params = {"processId": None, "capabilities": {}, "initializationOptions": options}
        return await self.request(1, "initialize", params)

    async def rest(self) -> bytes:
        """Whatever comes until the server closes the connection."""
        async with asyncio.timeout(30):
            return await self.reader.read()


@pytest.mark.parametrize(("options", "reason"), [(None, "missing"), ({"token": "guess"}, "wrong")])
async def test_a_missing_or_wrong_token_is_refused_and_the_connection_closed(tcp_server, options, reason):
    client = await RawClient.connect(tcp_server)
    reply = await client.initialize(options)
    assert reply["error"]["code"] == -32001
    assert f"{reason} token" in reply["error"]["message"]
    assert await client.rest() == b""


async def test_requests_before_initialize_are_refused(tcp_server):
    client = await RawClient.connect(tcp_server)
    reply = await client.request(7, "workspace/executeCommand", {"command": "codequorum.stats"})
    assert reply["id"] == 7 and reply["error"]["code"] == -32002
    assert "initializationOptions.token" in reply["error"]["message"]


async def test_the_right_token_opens_a_session_and_the_server_outlives_refused_clients(tcp_server):
    refused = await RawClient.connect(tcp_server)
    await refused.initialize({"token": "guess"})
    assert await refused.rest() == b""
    client = make_test_lsp_client()
    await client.start_tcp("127.0.0.1", tcp_server)
    result = await initialize(client, {"token": TOKEN, "server": {"debounce_ms": 5}})
    assert result.server_info.name == "codequorum"
    assert (await stats(client))["requests"] == 0
    await client.shutdown_session()
    await client.stop()


async def test_clients_get_sessions_of_their_own(tcp_server):
    clients = []
    for _ in range(2):
        client = make_test_lsp_client()
        await client.start_tcp("127.0.0.1", tcp_server)
        await initialize(client, {"token": TOKEN})
        clients.append(client)
    first, second = [await stats(c) for c in clients]
    assert first == second  # both fresh, both answering
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def test_websocket_clients_authenticate_too(config, token_file):
    process, port = await start_network_server(
        "--ws", "127.0.0.1:0", "--token-file", str(token_file), "--config", str(config))
    try:
        refused = make_test_lsp_client()
        await refused.start_ws("127.0.0.1", port)
        with pytest.raises(JsonRpcException) as error:
            await initialize(refused, {"token": "guess"})
        assert error.value.code == -32001
        client = make_test_lsp_client()
        await client.start_ws("127.0.0.1", port)
        await initialize(client, {"token": TOKEN})
        assert (await stats(client))["cancelled"] == 0
    finally:
        process.terminate()
        await process.wait()


def test_a_network_address_without_a_token_file_is_refused_before_listening(config):
    done = run_cli("serve", "--tcp", "0.0.0.0:0", "--config", str(config), timeout=60)
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0" in done.stderr and "--token-file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_address_or_two_transports_are_clear_errors(config):
    done = run_cli("serve", "--tcp", "localhost", "--config", str(config), timeout=60)
    assert done.returncode == 2 and "expected HOST:PORT" in done.stderr
    done = run_cli("serve", "--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0", timeout=60)
    assert done.returncode == 2 and "choose one of" in done.stderr


def test_a_port_in_use_is_a_clear_error(config):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--tcp", f"127.0.0.1:{port}", "--config", str(config), timeout=60)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
