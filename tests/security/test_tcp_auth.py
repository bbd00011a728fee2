"""The network server's token: checked on loopback too, compared in constant time, never logged.

Complements tests/e2e/test_lsp_network_auth.py (refusal without a token file on a network
address, missing/wrong token refused and the connection closed, the server outliving refused
clients, WebSocket) with what it does not check.
"""

from __future__ import annotations

import hmac
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from codequorum.server import auth
from tests.security.conftest import RunningServer, start_process, start_server

pytestmark = pytest.mark.e2e

RIGHT = f"right-token-{uuid.uuid4().hex}"
WRONG = f"wrong-token-{uuid.uuid4().hex}"
# `codequorum` with the root logger at DEBUG (pygls and every library log everything they do):
# the callback's logging.basicConfig then changes nothing.
DEBUG_CODEQUORUM = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s: %(message)s')\n"
    "from codequorum.cli import app\n"
    "sys.argv[0] = 'codequorum'\n"
    "app()\n"
)


@pytest.fixture
def server_files(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "codequorum.toml"
    config.write_text("[server]\nwarm_up = false\nfeedback = false\n")
    token = tmp_path / "token"
    token.write_text(RIGHT + "\n")
    return config, token


def finish(server: RunningServer) -> str:
    server.stop()
    time.sleep(0.2)  # the log thread reads the last lines
    return "".join(server.log)


def test_a_token_file_on_loopback_is_still_checked(server_files):
    config, token = server_files
    server = start_server(config, "--token-file", str(token), token=RIGHT)
    try:
        for presented, reason in ((None, "missing"), (WRONG, "wrong"), (RIGHT.upper(), "wrong"),
                                  (RIGHT + " ", "wrong"), (RIGHT[:-1], "wrong"), (12345, "wrong")):
            reply = server.initialize(presented)
            assert reply["error"]["code"] == -32001, (presented, reply)
            assert f"{reason} token" in reply["error"]["message"]
        assert server.initialize(RIGHT)["result"]["serverInfo"]["name"] == "codequorum"
        server.assert_healthy()
    finally:
        finish(server)


def test_the_token_is_compared_in_constant_time(monkeypatch):
    calls = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    book = auth.TokenBook([auth.Credential("alice", auth.digest_of(RIGHT)),
                           auth.Credential("bob", auth.digest_of(WRONG))])
    assert book.authenticate(RIGHT) == "alice" and book.authenticate(WRONG) == "bob"
    assert book.authenticate(RIGHT[:5]) is None  # a different length goes the same way
    # every entry is compared every time, on 32-byte digests: no early exit, no length leak
    assert len(calls) == 6 and all(len(a) == len(b) == 32 for a, b in calls)
    assert [a for a, _ in calls] == [auth.digest_of(RIGHT), auth.digest_of(WRONG)] * 3


@pytest.mark.parametrize("level", ["verbose", "debug"])
def test_neither_token_is_ever_logged(server_files, level):
    config, token = server_files
    args = ["serve", "--tcp", "127.0.0.1:0", "--config", str(config), "--token-file", str(token)]
    if level == "verbose":
        server = start_server(config, "--token-file", str(token), token=RIGHT, verbose=True)
    else:
        server = start_process([sys.executable, "-c", DEBUG_CODEQUORUM, *args], token=RIGHT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert server.initialize(WRONG)["error"]["code"] == -32001
        server.assert_healthy()  # initialize with the right token, then codequorum.stats
    finally:
        log = finish(server)
    if level == "debug":
        assert "DEBUG" in log, log[-2000:]  # the debug log was on, and said things
    assert RIGHT not in log and WRONG not in log, log[-3000:]
    assert "Traceback" not in log
