"""A client rewriting the server's settings: every key outside the allow-list is refused.

A real `codequorum serve --tcp` (with and without a token: a local user on a loopback bind is
not trusted either) whose only member is a fake OpenAI-compatible server on loopback holding
the server's API key. The client defines its own member on an attacker's listener, points
the feedback database at a directory of its choice and raises the sandbox's memory; the
warm-up, a completion and a feedback event then run. From the host: the attacker's listener
got nothing (no key, no SSRF), the planted directory does not exist, the server's own member
and database were used, and the client was told which keys were refused.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.conftest import SERVER_TOKEN, RunningServer, start_server
from tests.security.fake_members import FakeMember
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

API_KEY = f"cq-team-api-key-{uuid.uuid4().hex}"
CONFIG = """
include_default_members = false
[members.team]
backend = "openai"
base_url = "{base_url}"
model = "coder"
api_key_env = "CQ_TEAM_KEY"
[server]
debounce_ms = 0
warm_up = true
feedback_db = "{feedback_db}"
"""


@pytest.fixture
def members() -> Iterator[tuple[FakeMember, FakeMember]]:
    honest, attacker = FakeMember().start(), FakeMember().start()
    yield honest, attacker
    honest.stop()
    attacker.stop()


def start(tmp_path: Path, honest: FakeMember, token: bool) -> RunningServer:
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG.format(base_url=honest.base_url, feedback_db=tmp_path / "server.sqlite3"))
    (tmp_path / "token").write_text(SERVER_TOKEN)
    args = ("--token-file", str(tmp_path / "token")) if token else ()
    return start_server(config, *args, env={**os.environ, "CQ_TEAM_KEY": API_KEY},
                        token=SERVER_TOKEN if token else None)


def hostile_options(attacker: FakeMember, planted: Path) -> dict:
    return {
        "include_default_members": False,
        "members": {"evil": {"backend": "openai", "base_url": attacker.base_url, "model": "x",
                             "api_key_env": "CQ_TEAM_KEY"}},
        "server": {"inline_members": ["evil"], "feedback_db": str(planted / "feedback.sqlite3"),
                   "fix_test_command": "cat /etc/passwd", "max_connections": 100000,
                   "debounce_ms": 1},
        "sandbox": {"memory_mb": 6144},
        "engine": {"deadline_s": 100000},
    }


def wait_for(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("token", [True, False], ids=["token", "loopback-without-token"])
def test_a_client_cannot_define_members_paths_or_limits(tmp_path, members, token):
    honest, attacker = members
    planted = tmp_path / "planted"
    server = start(tmp_path, honest, token)
    client = WireClient.connect(server.port)
    try:
        options = hostile_options(attacker, planted) | ({"token": SERVER_TOKEN} if token else {})
        reply = client.initialize(options, root=tmp_path.as_uri())
        assert reply["result"]["serverInfo"]["name"] == "codequorum", reply
        assert wait_for(lambda: honest.requests), "the warm-up never reached the server's member"
        assert honest.requests[0].headers.get("Authorization") == f"Bearer {API_KEY}"

        uri = (tmp_path / "m.py").as_uri()
        client.open(uri, "def main():\n    ")
        answer = client.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": 4},
            "context": {"triggerKind": 1}})
        [item, *_] = answer["result"]["items"]
        assert item["insertText"] == "x = 1"  # the server's member answered
        client.notify("codequorum/feedback", {"id": item["command"]["arguments"][0], "event": "accepted"})

        client.notify("workspace/didChangeConfiguration",
                      {"settings": {"codequorum": hostile_options(attacker, planted)}})
        client.command("codequorum.stats")  # both notifications handled
        time.sleep(0.5)
    finally:
        client.close()
        server.stop()
    assert attacker.requests == [], "a client-defined URL was called"
    assert not planted.exists(), "the server created the client's feedback_db directory"
    assert (tmp_path / "server.sqlite3").exists(), "the server's own feedback_db was not used"
    refusals = [m for m in client.shown() if "not applied" in m]
    assert len(refusals) == 2, client.shown()
    for message in refusals:
        for key in ("members", "include_default_members", "sandbox", "engine", "server.feedback_db",
                    "server.fix_test_command", "server.max_connections", "server.inline_members"):
            assert f"  {key}:" in message, (key, message)
        assert "server.debounce_ms" not in message  # allowed: it applied
        assert attacker.base_url not in message and API_KEY not in message
    assert API_KEY not in "".join(server.log)


async def test_the_stdio_client_cannot_define_members_paths_or_limits_either(tmp_path, members):
    """The editor that starts the server over stdio passes on settings that may come from a
    repository's workspace settings: the same class of attack, over stdio."""
    from codequorum.bench.lsp_client import StdioLspClient

    honest, attacker = members
    planted = tmp_path / "planted"
    config = tmp_path / "codequorum.toml"
    config.write_text(CONFIG.format(base_url=honest.base_url, feedback_db=tmp_path / "server.sqlite3"))
    executable = str(Path(os.sys.executable).with_name("codequorum"))
    client = await StdioLspClient.start([executable, "serve", "--stdio", "--config", str(config)],
                                        env={**os.environ, "CQ_TEAM_KEY": API_KEY})
    try:
        await client.initialize(tmp_path.as_uri(), hostile_options(attacker, planted))
        uri = (tmp_path / "m.py").as_uri()
        await client.open(uri, "def main():\n    ")
        items = await client.inline_completion(uri, "def main():\n    ", len("def main():\n    "), timeout=60)
        assert items and items[0]["insertText"] == "x = 1"  # the server's own member answered
    finally:
        await client.shutdown()
    assert attacker.requests == [], "a client-defined URL was called"
    assert not planted.exists(), "the server created the client's feedback_db directory"
    assert honest.requests and honest.requests[0].headers.get("Authorization") == f"Bearer {API_KEY}"
