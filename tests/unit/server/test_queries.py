"""A completion query asks the members of its document's language ([server.languages.NAME])."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import Workspace

from codequorum.server.cache import PrefixCache
from codequorum.server.completion_service import CompletionPolicy, CompletionQuery, CompletionService
from codequorum.server.queries import completion_query
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from codequorum.server.stats import ServerStats
from tests.unit.server.engine_double import FakeEngine

SERVER = {"inline_members": ["qwen-small"], "languages": {"python": {"inline_members": ["qwen-large"]}},
          "feedback": False}


def query_for(uri: str, language_id: str, text: str) -> CompletionQuery:
    session = Session(ServerContext(SettingsSource({"server": SERVER}, "test")))
    workspace = Workspace(None)
    workspace.put_text_document(types.TextDocumentItem(uri, language_id, 1, text))
    return completion_query(session, workspace, uri, types.Position(0, len(text)))


def test_a_python_document_asks_pythons_members():
    assert query_for("file:///a.py", "python", "x = ").members == ("qwen-large",)


def test_another_language_asks_the_servers_members():
    assert query_for("file:///a.go", "go", "x := ").members == ("qwen-small",)


async def test_the_service_runs_the_querys_members_else_the_policys():
    engine = FakeEngine({"m": "1"})
    service = CompletionService(engine, CompletionPolicy(debounce_s=0.0, members=("default",)), ServerStats(),
                                PrefixCache(0))
    await service.complete(CompletionQuery("file:///a.py", "x = ", 4, language="python", members=("py",)))
    await service.complete(CompletionQuery("file:///b.go", "y := ", 5, language="go"))
    assert [members for _, members in engine.asked] == [("py",), ("default",)]
