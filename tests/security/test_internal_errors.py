"""No internal error sends a traceback to the client, authenticated or not.

A real in-process server on a loopback TCP socket (the transport `codequorum serve --tcp`
runs) whose engine cannot be built: the exception's text names a secret path. The client
that triggers it, before and after initializing, gets one line with a reference; the
server's log has the reference, the text and the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from codequorum.config import Settings
from codequorum.server import transports
from codequorum.server.engines import EnginePool
from codequorum.server.session import ServerContext
from codequorum.server.settings_source import SettingsSource
from tests.security.lsp_client import WireClient

pytestmark = pytest.mark.e2e

SECRET = f"/srv/cq-secret-{uuid.uuid4().hex}/engine.py"
ONE_LINE = re.compile(r"^codequorum: internal error \(reference ([0-9a-f]{10})\): "
                      r"the server's log has the details$")


class FailingEngines:
    """Engine construction that fails after `first_failure` calls (0: always)."""

    def __init__(self, first_failure: int) -> None:
        self.calls, self.first_failure = 0, first_failure

    def __call__(self, settings: Settings):
        self.calls += 1
        if self.calls > self.first_failure:
            raise RuntimeError(f"boom in {SECRET}")
        from codequorum.core.engine import Engine
        return Engine(settings)


@dataclass
class InProcessServer:
    port: int
    loop: asyncio.AbstractEventLoop
    task: asyncio.Future

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)


def serve(first_failure: int) -> InProcessServer:
    source = SettingsSource({"server": {"warm_up": False, "feedback": False}}, "test")
    context = ServerContext(source, engines=EnginePool(FailingEngines(first_failure)))
    announced: list[int] = []
    ready = threading.Event()
    holder: dict = {}

    def announce(line: str) -> None:
        announced.append(int(line.rsplit(":", 1)[1]))
        ready.set()

    def run() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"] = loop
        holder["task"] = loop.create_task(transports._serve_tcp(context, "127.0.0.1", 0, announce))
        try:
            loop.run_until_complete(holder["task"])
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(20), "the server did not start"
    return InProcessServer(announced[0], holder["loop"], holder["task"])


@pytest.fixture
def failing_at_initialize() -> Iterator[InProcessServer]:
    server = serve(first_failure=0)
    yield server
    server.stop()


def assert_one_line(message: str, caplog) -> None:
    match = ONE_LINE.match(message)
    assert match, message
    assert "Traceback" not in message and SECRET not in message and "boom" not in message
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged, "the reference is not in the server's log"
    record = logged[0]
    assert "boom" in record.getMessage() + str(record.exc_info[1] if record.exc_info else "")


def test_an_unauthenticated_request_that_fails_gets_one_line(failing_at_initialize, caplog):
    caplog.set_level(logging.ERROR)
    client = WireClient.connect(failing_at_initialize.port)
    try:
        reply = client.initialize({"server": {"debounce_ms": 5}})
    finally:
        client.close()
    error = reply["error"]
    assert error["code"] == -32603 and "data" not in error, reply
    assert_one_line(error["message"], caplog)


@pytest.fixture
def crashing_handlers(monkeypatch) -> Iterator[InProcessServer]:
    """The real server with a command and a notification that raise an unexpected exception
    (a bug), on the path where pygls sends the exception's text and traceback."""
    create = transports.create_server

    def with_crashing_handlers(session, connection=None):
        server = create(session, connection)

        @server.command("test.crash")
        def crash(ls, *args):
            raise KeyError(f"boom in {SECRET}")

        @server.feature("test/crash")
        def crash_notification(ls, params):
            raise KeyError(f"boom in {SECRET}")
        return server

    monkeypatch.setattr(transports, "create_server", with_crashing_handlers)
    server = serve(first_failure=10)
    yield server
    server.stop()


def test_a_request_whose_handler_crashes_gets_one_line(crashing_handlers, caplog):
    caplog.set_level(logging.ERROR)
    client = WireClient.connect(crashing_handlers.port)
    try:
        assert "result" in client.initialize(None)
        reply = client.command("test.crash")
        stats = client.command("codequorum.stats")
    finally:
        client.close()
    error = reply["error"]
    assert error["code"] == -32603 and "data" not in error, reply
    assert_one_line(error["message"], caplog)
    assert "requests" in stats["result"]  # the session carries on


def test_a_notification_whose_handler_crashes_is_shown_as_one_line(crashing_handlers, caplog):
    caplog.set_level(logging.ERROR)
    client = WireClient.connect(crashing_handlers.port)
    try:
        assert "result" in client.initialize(None)
        client.notify("test/crash", {})
        client.command("codequorum.stats")
    finally:
        client.close()
    [shown] = [m for m in client.shown() if "internal error" in m]
    assert shown.startswith("codequorum: a notification could not be handled: internal error (reference ")
    assert_one_line("codequorum: " + shown.split(": ", 2)[2], caplog)
