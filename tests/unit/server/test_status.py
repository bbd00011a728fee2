"""codequorum/status around the warm-up, and codequorum.choices, on a real session."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from codequorum.core.engine import Engine
from codequorum.server.engines import EnginePool
from codequorum.server.features import status
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from tests.unit.doubles import scripted_registry

MEMBERS = {"include_default_members": False,
           "members": {"fast": {"backend": "scripted", "fim": "qwen", "options": {"delay": 0.05}},
                       "off": {"backend": "scripted", "enabled": False}}}


@dataclass
class Notifications:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.sent.append((method, params))


@dataclass
class Server:
    """What the feature uses of the pygls server: the session and the notifications."""

    session: Session
    protocol: Notifications = field(default_factory=Notifications)


def session(server: dict[str, Any], factory=lambda settings: Engine(settings, scripted_registry())) -> Session:
    source = SettingsSource({**MEMBERS, "server": server}, "test")
    return Session(ServerContext(source, engines=EnginePool(factory)))


async def settle(ls: Server) -> None:
    while ls.session._background:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)  # the done callbacks run after the task


async def test_the_client_hears_loading_then_ready_with_the_warm_up_time():
    ls = Server(session({"warm_up": True}))
    status.warm_up(ls)  # type: ignore[arg-type]
    assert ls.protocol.sent == [("codequorum/status", {"state": "loading"})]
    await settle(ls)
    [_, (method, ready)] = ls.protocol.sent
    assert method == "codequorum/status" and ready["state"] == "ready"
    assert ready["seconds"] == ls.session.stats.warm_up_seconds and ready["seconds"] >= 0.05
    assert ls.session.context.health.report(1)["state"] == "ready"  # /healthz says so too
    await ls.session.aclose()


async def test_the_health_endpoint_says_loading_while_a_warm_up_runs_and_error_after_a_failure():
    ls = Server(session({"warm_up": True}))
    health = ls.session.context.health
    assert health.state == "starting"
    status.warm_up(ls)  # type: ignore[arg-type]
    assert health.state == "loading"
    await settle(ls)
    assert health.state == "ready"
    await ls.session.aclose()
    broken = Server(session({"warm_up": True}, factory=lambda settings: BrokenEngine()))
    status.warm_up(broken)  # type: ignore[arg-type]
    await settle(broken)
    report = broken.session.context.health.report(0)
    assert report["state"] == "error" and "model file is missing" in report["message"]
    await broken.session.aclose()


async def test_without_a_warm_up_the_server_is_ready_at_once():
    ls = Server(session({"warm_up": False}))
    status.warm_up(ls)  # type: ignore[arg-type]
    assert ls.protocol.sent == [("codequorum/status", {"state": "ready"})]
    await ls.session.aclose()


class BrokenEngine:
    async def run(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("model file is missing")

    async def aclose(self) -> None:
        return None


async def test_a_failed_warm_up_is_an_error_saying_what_to_do():
    ls = Server(session({"warm_up": True}, factory=lambda settings: BrokenEngine()))
    status.warm_up(ls)  # type: ignore[arg-type]
    await settle(ls)
    [_, (_, failed)] = ls.protocol.sent
    assert failed["state"] == "error"
    assert "model file is missing" in failed["message"] and "codequorum models install" in failed["message"]
    await ls.session.aclose()


async def test_the_choices_are_the_strategies_the_enabled_members_and_the_current_pick():
    ls = Server(session({"inline_strategy": "single", "inline_members": ["fast"]}))
    choices = await status.choices(ls)  # type: ignore[arg-type]
    assert choices["members"] == ["fast"]
    assert {"best-of", "single"} <= set(choices["strategies"])
    assert (choices["inline_strategy"], choices["inline_members"]) == ("single", ["fast"])
    assert choices["default_strategy"] == "single"  # the file's [server] inline_strategy
    await ls.session.aclose()
    plain = Server(session({}))
    assert (await status.choices(plain))["default_strategy"] == "confidence"  # type: ignore[arg-type]
    await plain.session.aclose()


async def test_the_default_strategy_is_the_configuration_files_not_the_clients():
    ls = Server(session({"inline_strategy": None}))
    ls.session.apply_options({"server": {"inline_strategy": "single"}}, "the client")
    choices = await status.choices(ls)  # type: ignore[arg-type]
    assert choices["inline_strategy"] == "single"
    assert choices["default_strategy"] == ls.session.context.source.settings().engine.strategy  # [engine]'s
    await ls.session.aclose()
