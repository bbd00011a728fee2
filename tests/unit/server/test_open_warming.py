"""Warming on open: when a document is opened, the members whose backend caches prompts read
the start of its prompt in the background, strongest first; one such warming at a time."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.workspace import Workspace

from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.plugins.strategies.confidence import ConfidenceOptions
from codequorum.server.app import create_server
from codequorum.server.cache import PrefixCache
from codequorum.server.completion_service import (
    CONFIDENCE_DEFAULT_ORDER,
    CompletionPolicy,
    CompletionQuery,
    CompletionService,
)
from codequorum.server.engines import EnginePool
from codequorum.server.features import open_documents
from codequorum.server.queries import open_query
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from codequorum.server.stats import ServerStats
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import Result
from tests.unit.server.engine_double import FakeEngine

LINES = [f"value_{n} = compute({n})  # line {n}\n" for n in range(80)]
LONG = "".join(LINES)
ANSWERS = {"large": "1", "small": "2", "remote": "3"}


def service(engine, **policy) -> CompletionService:
    defaults = {"debounce_s": 0.0, "strategy": "confidence", "members": ("large", "small", "remote"),
                "open_warm_members": ("large", "small"), "prefix_chars": 300}
    return CompletionService(engine, CompletionPolicy(**(defaults | policy)), ServerStats(), PrefixCache(16))


WARM_CURSOR = LONG.index("value_9 ")  # the line start where a 300-char window ends


def opened(text: str = LONG, document: str = "file:///a.py", offset: int = WARM_CURSOR) -> CompletionQuery:
    return CompletionQuery(document=document, text=text, offset=offset, language="python")


async def finished(svc: CompletionService) -> None:
    while svc._background:  # noqa: SLF001 - the service's own background tasks
        await asyncio.sleep(0.01)


async def test_the_caching_members_read_the_opened_documents_prompt_strongest_first_for_one_token():
    engine = FakeEngine(ANSWERS)
    svc = service(engine)
    assert svc.warm_open(opened())
    await finished(svc)
    assert engine.asked == [("single", ["large"]), ("single", ["small"])]  # not the remote one
    assert all(r.max_tokens == 1 for r in engine.requests)
    assert all(r.prefix == LONG[:WARM_CURSOR] for r in engine.requests)
    assert svc.stats.open_warmings == 1 and svc.stats.open_warmings_done == 1
    assert [c["member"] for c in svc.stats.last_open_warming.calls] == ["large", "small"]
    assert svc.stats.engine_runs == 0 and svc.cache.lookup(opened().cache_key()) is None  # nothing stored


async def test_the_ladder_order_is_the_policys_not_the_documents_member_list():
    engine = FakeEngine(ANSWERS)
    svc = service(engine)
    svc.warm_open(CompletionQuery("file:///a.py", LONG, 10, members=("small", "remote", "large")))
    await finished(svc)
    assert engine.asked == [("single", ["large"]), ("single", ["small"])]


async def test_a_document_whose_members_keep_no_prompt_cache_is_not_warmed():
    engine = FakeEngine(ANSWERS)
    svc = service(engine)
    assert not svc.warm_open(CompletionQuery("file:///a.md", LONG, 10, members=("remote",)))
    await finished(svc)
    assert engine.requests == [] and svc.stats.open_warmings == 0


async def test_warm_on_open_switched_off_warms_nothing():
    engine = FakeEngine(ANSWERS)
    svc = service(engine, open_warm_members=())
    assert not svc.warm_open(opened())
    await finished(svc)
    assert engine.requests == [] and svc.stats.open_warmings == 0


async def test_a_newer_opened_document_replaces_the_pending_warming():
    engine = FakeEngine(ANSWERS, steps=100, step_s=0.01)
    svc = service(engine)
    svc.warm_open(opened(document="file:///first.py"))
    await engine.started.wait()
    engine.steps = 1
    svc.warm_open(opened(LONG.replace("compute", "measure"), document="file:///second.py"))
    await finished(svc)
    assert engine.tokens[0].cancelled  # the first one's strongest member stopped at once
    warmed = [(r.prefix[:20], members) for r, (_, members) in zip(engine.requests, engine.asked, strict=True)]
    assert warmed[1:] == [("value_0 = measure(0)", ["large"]), ("value_0 = measure(0)", ["small"])]
    assert svc.stats.open_warmings == 2 and svc.stats.open_warmings_done == 1
    assert svc.stats.open_warmings_stopped == 1


async def test_a_completion_request_stops_the_warming_before_it_asks_the_models():
    engine = FakeEngine(ANSWERS, steps=100, step_s=0.01)
    svc = service(engine)
    svc.warm_open(opened())
    await engine.started.wait()
    engine.steps = 1
    suggestions = await svc.complete(opened(offset=40))
    assert suggestions and engine.tokens[0].cancelled and not engine.tokens[1].cancelled
    await finished(svc)
    assert [members for _, members in engine.asked[:2]] == [["large"], ("large", "small", "remote")]
    assert svc.stats.open_warmings_stopped == 1 and svc.stats.open_warmings_done == 0
    assert svc.stats.last_open_warming.calls[0]["member"] == "large"  # what it read before it stopped


async def test_closing_the_document_stops_its_warming_but_not_anothers():
    engine = FakeEngine(ANSWERS, steps=100, step_s=0.01)
    svc = service(engine)
    svc.warm_open(opened(document="file:///a.py"))
    await engine.started.wait()
    svc.document_closed("file:///other.py")
    assert not engine.tokens[0].cancelled
    svc.document_closed("file:///a.py")
    await finished(svc)
    assert engine.tokens[0].cancelled and len(engine.requests) == 1  # the weaker member was not asked
    assert svc.stats.open_warmings_stopped == 1 and svc.stats.open_warmings_done == 0


async def test_new_settings_stop_the_warming():
    engine = FakeEngine(ANSWERS, steps=100, step_s=0.01)
    svc = service(engine)
    svc.warm_open(opened())
    await engine.started.wait()
    svc.stop_all()
    await finished(svc)
    assert engine.tokens[0].cancelled and svc.stats.open_warmings_stopped == 1


async def test_the_warming_waits_for_the_warm_up_whose_prompt_would_take_the_caches_place():
    engine = FakeEngine(ANSWERS, steps=5, step_s=0.02)
    svc = service(engine)
    warm_up = asyncio.create_task(svc.warm_up())
    await engine.started.wait()
    svc.warm_open(opened())
    await warm_up
    await finished(svc)
    assert [strategy for strategy, _ in engine.asked] == ["confidence", "single", "single"]
    assert engine.requests[0].prefix.startswith("def main()")


class FailingEngine:
    async def run(self, request: Request, strategy: str | None = None, members: Sequence[str] | None = None,
                  options: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Result:
        raise RuntimeError("the model file is gone")


async def test_a_failing_engine_is_logged_not_raised(caplog):
    svc = service(FailingEngine())
    with caplog.at_level(logging.ERROR):
        assert svc.warm_open(opened())
        await finished(svc)
    assert "warming the members on opening file:///a.py failed" in caplog.text
    assert "the model file is gone" in caplog.text
    assert svc.stats.open_warmings_done == 0 and svc.stats.last_open_warming is None
    assert svc._open_warming is None  # noqa: SLF001 - the slot is free for the next document


# ---- the query an opened document is warmed with


def session(server: dict[str, Any] | None = None, engine: FakeEngine | None = None) -> Session:
    """A session on the default members (two local llama.cpp Qwen members); with `engine`, its
    engines' runs are that double's, so that no model is ever loaded."""
    source = SettingsSource({"server": {"feedback": False, **(server or {})}}, "test")
    return Session(ServerContext(source, engines=EnginePool(lambda settings: answered_by(engine, settings))))


def answered_by(double: FakeEngine | None, settings: Settings) -> Engine:
    engine = Engine(settings)  # its runtime decides languages and scopes
    if double is not None:
        engine.run = double.run  # type: ignore[method-assign]
    return engine


def workspace_with(*documents: tuple[str, str]) -> Workspace:
    workspace = Workspace(None)
    for uri, text in documents:
        workspace.put_text_document(types.TextDocumentItem(uri, "python", 1, text))
    return workspace


def test_the_warm_cursor_is_the_line_start_where_the_first_prompt_window_ends():
    query = open_query(session({"prefix_chars": 300}), workspace_with(("file:///a.py", LONG)), "file:///a.py")
    assert query.offset == WARM_CURSOR < 300 < WARM_CURSOR + len(LINES[9])  # 300 chars end inside line 9
    assert query.scope == "block" and query.language == "python"


def test_the_default_members_warm_strongest_first_and_the_setting_switches_it_off():
    ladder = ("qwen-large", "qwen-small", "smollm2")  # every local member; smollm2 is no completion member
    assert session().completions.policy.open_warm_members == ladder
    assert session({"warm_fallbacks": False}).completions.policy.open_warm_members == ladder
    assert session({"warm_on_open": False}).completions.policy.open_warm_members == ()


def test_warming_on_open_follows_the_ladders_order_which_follows_the_documents_examples():
    with_examples = 'def f(x):\n    """\n    >>> f(1)\n    2\n    """\n    return x + 1\n'
    without = "def f(x):\n    return x + 1\n"
    completions = session().completions  # `confidence` by default: cheapest first where examples verify
    assert completions.policy.cheapest_first == "examples"
    assert completions._open_members(query_of(with_examples))[:2] == ["qwen-small", "qwen-large"]
    assert completions._open_members(query_of(without))[:2] == ["qwen-large", "qwen-small"]
    strongest = session({"inline_strategy": "confidence:order=strongest"}).completions
    assert strongest._open_members(query_of(with_examples))[:2] == ["qwen-large", "qwen-small"]
    cheapest = session({"inline_strategy": "confidence:order=cheapest"}).completions
    assert cheapest._open_members(query_of(without))[:2] == ["qwen-small", "qwen-large"]


def test_the_servers_idea_of_confidences_default_order_is_the_strategys():
    assert ConfidenceOptions().order == CONFIDENCE_DEFAULT_ORDER


def query_of(text: str):
    return open_query(session(), workspace_with(("file:///a.py", text)), "file:///a.py")


def test_a_document_shorter_than_the_window_is_read_to_its_end():
    short = "".join(LINES[:5])
    assert open_query(session(), workspace_with(("file:///a.py", short)), "file:///a.py").offset == len(short)
    unfinished = short + "value_5 = comp"
    assert open_query(session(), workspace_with(("file:///a.py", unfinished)), "file:///a.py").offset == len(short)


def test_every_later_cursor_in_the_window_sees_the_prompt_start_the_warming_read():
    from codequorum.server.prompt_window import prompt_window

    warm = open_query(session({"prefix_chars": 300}), workspace_with(("file:///a.py", LONG)), "file:///a.py")
    for cursor in range(0, 301, 17):
        later = prompt_window(LONG, cursor, 300, 400)
        assert later.text[:later.cursor] == LONG[:cursor]  # the window starts at the document's start
        assert LONG[:warm.offset].startswith(LONG[:min(cursor, warm.offset)])


def test_the_warm_query_carries_the_other_open_documents_snippets():
    helper = "def compute(n):\n    return n * value_scale\n"
    workspace = workspace_with(("file:///a.py", LONG), ("file:///helpers.py", helper))
    query = open_query(session(), workspace, "file:///a.py")
    assert [snippet.text for snippet in query.context] == [helper.strip("\n")]


# ---- didOpen and didClose through the server's features


@dataclass
class Server:
    """What the feature uses of the pygls server."""

    session: Session
    workspace: Workspace


def warming_server(engine: FakeEngine, server: dict[str, Any] | None = None, *documents: tuple[str, str]) -> Server:
    return Server(session(server, engine), workspace_with(*documents))


def did_open(uri: str, text: str = LONG) -> types.DidOpenTextDocumentParams:
    return types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))


async def test_opening_a_document_warms_the_local_members_strongest_first():
    engine = FakeEngine({"qwen-large": "1", "qwen-small": "2"})
    ls = warming_server(engine, None, ("file:///a.py", LONG))
    open_documents.did_open(ls, did_open("file:///a.py"))  # type: ignore[arg-type]
    await finished(ls.session.completions)
    assert engine.asked == [("single", ["qwen-large"]), ("single", ["qwen-small"])]
    assert ls.session.stats.open_warmings_done == 1
    await ls.session.aclose()


async def test_the_setting_off_builds_no_query_and_warms_nothing():
    engine = FakeEngine({"qwen-large": "1"})
    ls = warming_server(engine, {"warm_on_open": False}, ("file:///a.py", LONG))
    open_documents.did_open(ls, did_open("file:///a.py"))  # type: ignore[arg-type]
    await finished(ls.session.completions)
    assert engine.requests == [] and ls.session.stats.open_warmings == 0
    await ls.session.aclose()


async def test_a_document_the_workspace_does_not_hold_is_logged_not_raised(caplog):
    ls = warming_server(FakeEngine({}))
    with caplog.at_level(logging.ERROR):
        open_documents.did_open(ls, did_open("file:///gone.py"))  # type: ignore[arg-type]
    assert "could not warm the members' prompt for file:///gone.py" in caplog.text
    await ls.session.aclose()


async def test_closing_the_document_stops_the_warming_through_the_feature():
    engine = FakeEngine({"qwen-large": "1", "qwen-small": "2"}, steps=100, step_s=0.01)
    ls = warming_server(engine, None, ("file:///a.py", LONG))
    open_documents.did_open(ls, did_open("file:///a.py"))  # type: ignore[arg-type]
    await engine.started.wait()
    open_documents.did_close(ls, types.DidCloseTextDocumentParams(  # type: ignore[arg-type]
        types.TextDocumentIdentifier("file:///a.py")))
    await finished(ls.session.completions)
    assert engine.tokens[0].cancelled and ls.session.stats.open_warmings_stopped == 1
    await ls.session.aclose()


def message(server: Any, method: str, params: dict[str, Any], msg_id: int | None = None) -> None:
    data = {"jsonrpc": "2.0", "method": method, "params": params} | ({} if msg_id is None else {"id": msg_id})
    server.protocol.handle_message(server.protocol.structure_message(data))


async def test_pygls_still_keeps_the_workspace_and_only_an_initialized_client_warms():
    engine = FakeEngine({"qwen-large": "1", "qwen-small": "2"})
    ls = session(engine=engine)
    server = create_server(ls)
    server.protocol.set_writer(io.BytesIO())
    item = {"uri": "file:///a.py", "languageId": "python", "version": 1, "text": LONG}
    message(server, "textDocument/didOpen", {"textDocument": item})
    await finished(ls.completions)
    assert engine.requests == [] and ls.stats.open_warmings == 0  # dropped before initialize
    message(server, "initialize", {"capabilities": {}, "rootUri": None}, msg_id=1)
    assert ls.initialized
    message(server, "textDocument/didOpen", {"textDocument": item})
    await finished(ls.completions)
    assert server.workspace.get_text_document("file:///a.py").source == LONG
    assert [members for _, members in engine.asked] == [["qwen-large"], ["qwen-small"]]
    message(server, "textDocument/didClose", {"textDocument": {"uri": "file:///a.py"}})
    assert "file:///a.py" not in server.workspace.text_documents
    await ls.aclose()


async def test_a_document_opened_while_a_request_runs_is_warmed_once_the_request_is_over():
    engine = FakeEngine(ANSWERS, steps=20, step_s=0.01)
    svc = service(engine)
    request = asyncio.create_task(svc.complete(opened(document="file:///a.py", offset=40)))
    await engine.started.wait()
    svc.warm_open(opened(document="file:///b.py"))
    await asyncio.sleep(0.05)
    assert len(engine.requests) == 1  # the running request's members are not shared with a warming
    assert await request
    await finished(svc)
    assert [members for _, members in engine.asked] == [("large", "small", "remote"), ["large"], ["small"]]
    assert svc.stats.open_warmings_done == 1
