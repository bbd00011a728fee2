"""Named tokens, per-user rate limits, TLS and the metrics endpoint against a real
`codequorum serve --tcp` on loopback: a wrong token, another user's token, a user over its
rate limit, a TLS client that never says hello, a plain client on a TLS port, bad
certificates, and an unauthorised scrape."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import (
    CODEQUORUM,
    RunningServer,
    receive,
    request,
    send,
    start_process,
    start_server,
)
from tests.security.fake_members import FakeMember, says
from tests.security.tls_certs import Certificate, self_signed

pytestmark = pytest.mark.e2e

ALICE = f"alice-{uuid.uuid4().hex}"
BOB = f"bob-{uuid.uuid4().hex}"
SOURCE = "def add(a, b):\n    return "


@pytest.fixture(scope="module")
def member() -> Iterator[FakeMember]:
    fake = FakeMember(says("a + b")).start()
    yield fake
    fake.stop()


def files(folder: Path, member: FakeMember, server: str = "") -> tuple[Path, Path]:
    config = folder / "codequorum.toml"
    config.write_text(
        "include_default_members = false\n"
        f"[members.fake]\nbackend = \"openai\"\nbase_url = \"{member.base_url}\"\nmodel = \"x\"\nfim = \"qwen\"\n"
        f"[server]\nwarm_up = false\ndebounce_ms = 0\nfeedback_db = \"{folder / 'feedback.sqlite3'}\"\n"
        f"handshake_timeout_s = 1.5\nmax_unauthenticated = 4\n{server}")
    tokens = folder / "tokens"
    tokens.write_text(f"alice = {ALICE}\nbob = {BOB}\n")
    tokens.chmod(0o600)
    return config, tokens


def said(done: subprocess.CompletedProcess[str]) -> str:
    """What the command printed, with the terminal's line wrapping undone."""
    return " ".join(done.stderr.split())


def initialize(sock: socket.socket, token: str | None) -> tuple[Any, dict[str, Any]]:
    reader = sock.makefile("rb")
    reply = request(sock, reader, 1, "initialize", {
        "processId": None, "capabilities": {}, "initializationOptions": {"token": token} if token else None})
    if "result" in reply:
        send(sock, {"method": "initialized", "params": {}})
    return reader, reply


def tls_connect(port: int, cert: Certificate, timeout: float = 10) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(cert.cert))
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def complete_and_accept(sock: socket.socket, reader: Any, uri: str) -> None:
    send(sock, {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": SOURCE}}})
    reply = request(sock, reader, 2, "textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": {"line": 1, "character": 11},
        "context": {"triggerKind": 1}})
    [item, *_] = reply["result"]["items"]
    assert item["insertText"] == "a + b"
    [suggestion_id] = item["command"]["arguments"]
    send(sock, {"method": "codequorum/feedback", "params": {"id": suggestion_id, "event": "accepted"}})
    stats = request(sock, reader, 3, "workspace/executeCommand", {"command": "codequorum.stats"})
    assert stats["result"]["feedback_events"] == 1


def test_each_user_is_who_their_token_says_and_feedback_carries_the_name(tmp_path, member):
    config, tokens = files(tmp_path, member)
    server = start_server(config, "--tokens-file", str(tokens), token=ALICE)
    try:
        for presented in (None, f"carol-{uuid.uuid4().hex}", ALICE[:-1], ALICE.upper(), f"sha256:{ALICE}"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
                _, reply = initialize(sock, presented)
                assert reply["error"]["code"] == -32001, (presented, reply)
                assert sock.recv(1) == b""  # and the connection is closed
        for user, token in (("alice", ALICE), ("bob", BOB)):
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
                reader, reply = initialize(sock, token)
                assert "result" in reply, reply
                complete_and_accept(sock, reader, f"file:///work/{user}.py")
        server.assert_healthy()
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as db:
        rows = db.execute("SELECT user_name, event FROM feedback ORDER BY id").fetchall()
    assert rows == [("alice", "accepted"), ("bob", "accepted")]
    log = "".join(server.log)
    assert ALICE not in log and BOB not in log


def test_a_tokens_file_others_can_read_stops_the_server(tmp_path, member):
    config, tokens = files(tmp_path, member)
    tokens.chmod(0o644)
    done = subprocess.run([CODEQUORUM, "serve", "--tcp", "127.0.0.1:0", "--config", str(config),
                           "--tokens-file", str(tokens)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "readable by other users" in said(done) and f"chmod 600 {tokens}" in said(done)
    assert "Traceback" not in done.stderr and ALICE not in done.stderr


def test_a_user_over_the_rate_limit_is_refused_and_the_others_are_not(tmp_path, member):
    config, tokens = files(tmp_path, member, "user_requests_per_second = 1\nuser_request_burst = 3\n")
    server = start_server(config, "--tokens-file", str(tokens), token=ALICE)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as alice, \
                socket.create_connection(("127.0.0.1", server.port), timeout=20) as bob:
            alice_reader, _ = initialize(alice, ALICE)
            bob_reader, _ = initialize(bob, BOB)
            replies = [request(alice, alice_reader, 10 + i, "workspace/executeCommand",
                               {"command": "codequorum.stats"}) for i in range(6)]
            served = [r for r in replies if "result" in r]
            refused = [r["error"] for r in replies if "error" in r]
            assert len(served) == 3 and len(refused) == 3, replies
            assert all(e["code"] == -32803 and "alice sent more than 1 requests per second" in e["message"]
                       and "retry in" in e["message"] for e in refused)
            # bob's own bucket is full; alice's second connection shares hers
            assert "result" in request(bob, bob_reader, 10, "workspace/executeCommand",
                                       {"command": "codequorum.stats"})
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as again:
                again_reader, _ = initialize(again, ALICE)
                assert request(again, again_reader, 10, "workspace/executeCommand",
                               {"command": "codequorum.stats"})["error"]["code"] == -32803
            # initialize again (the session's settings applied anew each time) counts too
            again_init = request(alice, alice_reader, 30, "initialize", {
                "processId": None, "capabilities": {}, "initializationOptions": {"token": ALICE}})
            assert again_init["error"]["code"] == -32803, again_init
            time.sleep(1.1)
            assert "result" in request(alice, alice_reader, 20, "workspace/executeCommand",
                                       {"command": "codequorum.stats"})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_tls_serves_a_tls_client_and_no_plain_one(tmp_path, member, certificate):
    config, tokens = files(tmp_path, member)
    server = start_server(config, "--tokens-file", str(tokens), "--tls-cert", str(certificate.cert),
                          "--tls-key", str(certificate.key), token=ALICE)
    try:
        assert any("serving LSP on tls://127.0.0.1:" in line for line in server.log)
        with tls_connect(server.port, certificate) as sock:
            assert sock.version() in ("TLSv1.2", "TLSv1.3")
            reader, reply = initialize(sock, ALICE)
            assert reply["result"]["serverInfo"]["name"] == "codequorum"
            complete_and_accept(sock, reader, "file:///work/tls.py")
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as plain:
            send(plain, {"id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
            with pytest.raises((ConnectionError, OSError)):
                receive(plain.makefile("rb"))  # the server closes: a plain client gets no LSP at all
        with tls_connect(server.port, certificate) as sock:
            _, reply = initialize(sock, BOB[:-1])
            assert reply["error"]["code"] == -32001
    finally:
        server.stop()


def test_silent_tls_clients_are_dropped_within_the_handshake_timeout(tmp_path, member, certificate):
    config, tokens = files(tmp_path, member)
    server = start_server(config, "--tokens-file", str(tokens), "--tls-cert", str(certificate.cert),
                          "--tls-key", str(certificate.key), token=ALICE)
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
    try:
        started = time.monotonic()
        with tls_connect(server.port, certificate) as sock:  # served despite 20 silent sockets
            _, reply = initialize(sock, ALICE)
            assert "result" in reply
        for sock in silent:  # each closed by the server, within the 1.5 s handshake timeout
            assert sock.recv(1) == b""
        assert time.monotonic() - started < 1.5 + 3
        # one that starts a TLS handshake and stalls half-way is dropped too
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as stalled:
            stalled.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
            began = time.monotonic()
            assert stalled.recv(1) == b""
            assert time.monotonic() - began < 1.5 + 2
        with tls_connect(server.port, certificate) as sock:
            assert "result" in initialize(sock, BOB)[1]
    finally:
        for sock in silent:
            sock.close()
        server.stop()
    assert "TLS handshake failed" in "".join(server.log)


@pytest.mark.parametrize("problem", ["missing", "not pem", "wrong key", "key only"])
def test_a_bad_certificate_stops_the_server_with_a_clear_message(tmp_path, member, certificate, problem):
    config, tokens = files(tmp_path, member)
    other = self_signed(tmp_path, "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    args = {"missing": ["--tls-cert", str(tmp_path / "nope.crt"), "--tls-key", str(certificate.key)],
            "not pem": ["--tls-cert", str(garbage), "--tls-key", str(certificate.key)],
            "wrong key": ["--tls-cert", str(certificate.cert), "--tls-key", str(other.key)],
            "key only": ["--tls-key", str(certificate.key)]}[problem]
    done = subprocess.run([CODEQUORUM, "serve", "--tcp", "127.0.0.1:0", "--config", str(config),
                           "--tokens-file", str(tokens), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "serving LSP" not in done.stderr
    expected = {"missing": "does not exist", "not pem": "cannot use the TLS certificate",
                "wrong key": "cannot use the TLS certificate", "key only": "--tls-key needs --tls-cert"}[problem]
    assert expected in said(done), done.stderr
    assert "Traceback" not in done.stderr


def scrape(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                    timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metrics_port(server: RunningServer) -> int:
    for line in server.log:
        if "serving health and metrics on http://" in line:
            return int(line.rsplit(":", 1)[1])
    raise AssertionError(server.tail())


def test_the_metrics_endpoint_needs_its_token_and_counts_per_user(tmp_path, member):
    config, tokens = files(tmp_path, member, "user_requests_per_second = 1\nuser_request_burst = 5\n")
    metrics_token = tmp_path / "metrics-token"
    metrics_token.write_text(f"scrape-{uuid.uuid4().hex}\n")
    metrics_token.chmod(0o600)
    secret = metrics_token.read_text().strip()
    server = start_server(config, "--tokens-file", str(tokens), "--metrics", "127.0.0.1:0",
                          "--metrics-token-file", str(metrics_token), token=ALICE)
    try:
        port = metrics_port(server)
        assert scrape(port, "/metrics")[0] == 401
        assert scrape(port, "/metrics", "wrong")[0] == 401
        status, health = scrape(port, "/healthz", secret)
        assert status == 200 and json.loads(health)["state"] == "starting"  # no client yet
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            reader, _ = initialize(sock, ALICE)
            complete_and_accept(sock, reader, "file:///work/m.py")
            for i in range(8):
                request(sock, reader, 100 + i, "workspace/executeCommand", {"command": "codequorum.stats"})
            status, text = scrape(port, "/metrics", secret)
            assert status == 200
            assert 'codequorum_requests_total{method="textDocument/inlineCompletion",user="alice"} 1' in text
            assert 'codequorum_inline_completions_total{result="answered"} 1' in text
            assert 'codequorum_member_calls_total{member="fake",outcome="ok"} 1' in text
            assert 'codequorum_cache_lookups_total{result="miss"} 1' in text
            assert 'codequorum_connections_open{transport="tcp"} 1' in text
            assert 'codequorum_user_requests_total{user="alice",outcome="rate_limited"}' in text
            assert 'codequorum_responses_total{method="initialize",outcome="unauthorized"}' not in text
        status, health = scrape(port, "/healthz", secret)
        assert status == 200 and json.loads(health)["state"] == "ready"  # warm_up = false: at once
        assert scrape(port, "/nothing", secret)[0] == 404
        with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:  # never sends
            began = time.monotonic()
            assert silent.recv(1) == b""
            assert time.monotonic() - began < 8
    finally:
        server.stop()
    assert secret not in "".join(server.log)


def test_metrics_on_a_network_address_without_a_token_are_refused(tmp_path, member):
    config, tokens = files(tmp_path, member)
    done = subprocess.run([CODEQUORUM, "serve", "--tcp", "127.0.0.1:0", "--config", str(config),
                           "--tokens-file", str(tokens), "--metrics", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=60, env={**os.environ})
    assert done.returncode != 0 and "refusing to serve metrics on 0.0.0.0" in said(done)
    assert "--metrics-token-file" in said(done)


def test_websocket_over_tls_with_a_named_token(tmp_path, member, certificate):
    from websockets.asyncio.client import connect

    config, tokens = files(tmp_path, member)
    command = [CODEQUORUM, "serve", "--ws", "127.0.0.1:0", "--config", str(config), "--tokens-file",
               str(tokens), "--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key)]
    server = start_process(command, token=ALICE)

    async def scenario() -> None:
        context = ssl.create_default_context(cafile=str(certificate.cert))
        async with connect(f"wss://127.0.0.1:{server.port}", ssl=context) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "capabilities": {}, "initializationOptions": {"token": BOB}}}))
            reply = json.loads(await ws.recv())
            assert reply["result"]["serverInfo"]["name"] == "codequorum"
        with pytest.raises(Exception):  # noqa: B017 - a plain ws:// client gets no WebSocket
            async with connect(f"ws://127.0.0.1:{server.port}", open_timeout=5):
                pass

    try:
        assert any("serving LSP on wss://127.0.0.1:" in line for line in server.log)
        asyncio.run(scenario())
    finally:
        server.stop()
