"""Two servers on one real PostgreSQL (Debian's, started on 127.0.0.1 in a temporary directory by
tests/postgresql.py; a PostgreSQL that cannot start fails this test with the reason).

Each server is a `ServerContext` loaded from its own configuration file, as `codequorum serve`
builds it, with its own pool of feedback writers and its own connection; its sessions record
accepts and dismissals exactly as the accept command and the feedback notification do. Each
server must see the other's events, and the router memory that the real `codequorum router
build` (the bundled MiniLM encoder) writes into the same database. A local SQLite store from
before is moved in with `codequorum feedback migrate`, twice, copying once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codequorum.plugins.strategies.route import RouteStrategy
from codequorum.routing.embed import MiniLmEmbedder
from codequorum.routing.knn import nearest, predict
from codequorum.routing.memory import outcomes_from_feedback, request_text
from codequorum.routing.memory_source import load_memory
from codequorum.server.feedback_store import SentSuggestion, record_for
from codequorum.server.session import ServerContext, Session
from codequorum.server.settings_source import SettingsSource
from codequorum.server.suggestions import Suggestion
from codequorum.stores.open import open_store
from codequorum.vocabulary.request import completion_request
from tests.postgresql import PostgresServer, postgres_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SORT = "def sort_by_age(people):\n    "
PARSE = "def parse_header(line):\n    "
CONFIG = """
[server]
warm_up = false
feedback_db = "{url}"

[strategies.route]
memory = "{url}"
k = 1
"""


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def url(database: PostgresServer) -> str:
    return database.fresh_url()


def server(tmp_path: Path, name: str, url: str) -> ServerContext:
    """One server process's shared parts, from its own configuration file."""
    config = tmp_path / f"{name}.toml"
    config.write_text(CONFIG.format(url=url))
    return ServerContext(SettingsSource.load(config))


def suggest(session: Session, member: str, prefix: str, text: str) -> str:
    """What a completion does before the editor hears of it: the suggestion is remembered."""
    [suggestion_id] = session.remember((Suggestion(text, member, "best-of"),), "inline", "python", prefix,
                                       "\n\nprint('done')\n")
    return suggestion_id


def codequorum(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, from this checkout's sources."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-c", "from codequorum.cli import app; app()", *args],
                          capture_output=True, text=True, timeout=600, env=env, check=False)


async def test_two_servers_share_feedback_and_the_router_built_from_it(tmp_path, database, url):
    first, second = server(tmp_path, "first", url), server(tmp_path, "second", url)
    one, two = Session(first), Session(second)
    one.configure(one.settings)
    two.configure(two.settings)

    sorted_id = suggest(one, "qwen-small", SORT, "return sorted(people, key=lambda p: p.age)")
    assert one.record_feedback(sorted_id, "shown") and one.record_feedback(sorted_id, "accepted")
    parsed_id = suggest(two, "qwen-large", PARSE, "name, _, value = line.partition(':')")
    wrong_id = suggest(two, "qwen-small", PARSE, "return line")
    assert two.record_feedback(parsed_id, "accepted") and two.record_feedback(wrong_id, "dismissed")
    halved_id = suggest(one, "smollm2", PARSE, "return line.upper()")  # 19 characters, 10 taken
    assert one.record_feedback(halved_id, "accepted_partial", accepted_chars=7)
    assert one.record_feedback(halved_id, "accepted_partial", accepted_chars=10)
    assert one.flush_feedback() and two.flush_feedback()

    for context in (first, second):  # each server reads what both wrote
        seen = outcomes_from_feedback(context.source.settings().server.feedback_db)
        assert sorted((o.member, round(o.right, 3), o.text) for o in seen) == [
            ("qwen-large", 1.0, PARSE), ("qwen-small", 0.0, PARSE), ("qwen-small", 1.0, SORT),
            ("smollm2", round(10 / 19, 3), PARSE)]
    shared = open_store(url)
    accepted = list(shared.records(events=("accepted",)))
    assert {r.suggestion_id for r in accepted} == {sorted_id, parsed_id}
    assert all(r.prompt_prefix.endswith(r.prefix_tail) and r.prompt_suffix == "\n\nprint('done')\n"
               for r in accepted)

    built = codequorum("router", "build", "--feedback", url, "--out", url)
    assert built.returncode == 0, built.stderr
    assert "4 accepted, partly accepted or dismissed suggestion(s)" in built.stdout
    assert "2 past request(s)" in built.stdout
    assert database.password not in built.stdout + built.stderr

    embedder = MiniLmEmbedder()
    for context in (first, second):  # each server's route strategy reads the same memory
        route = RouteStrategy(context.source.settings().strategy_options("route"))
        memory = load_memory(route.memory)
        assert {e.text: e.outcomes for e in memory.entries} == {
            SORT: {"qwen-small": 1.0}, PARSE: {"qwen-large": 1.0, "qwen-small": 0.0, "smollm2": 10 / 19}}
        [query] = embedder.embed([request_text(completion_request(PARSE + "key", len(PARSE) + 3))])
        predictions = predict(nearest(query, memory.matrix, memory.entries, k=1), ["qwen-small", "qwen-large"])
        assert predictions["qwen-large"].quality == 1.0 and predictions["qwen-small"].quality == 0.0

    await one.aclose()
    await two.aclose()
    shared.close()


def test_a_local_store_moves_in_once(tmp_path, url):
    local = open_store(tmp_path / "feedback.sqlite3")
    sent = SentSuggestion(Suggestion("return 0", "smollm2", "single"), "inline", "python", 0, SORT, 1.0, SORT, "")
    local.add([record_for("old-1", "accepted", sent, keep_text=True),
               record_for("old-1", "shown", sent, keep_text=True),
               record_for("old-2", "accepted_partial", sent, keep_text=True, accepted_chars=6)])
    local.close()
    moved = codequorum("feedback", "migrate", "--from", f"sqlite://{tmp_path / 'feedback.sqlite3'}", "--to", url)
    assert moved.returncode == 0, moved.stderr
    assert "3 event(s) read, 3 new" in moved.stdout
    again = codequorum("feedback", "migrate", "--from", str(tmp_path / "feedback.sqlite3"), "--to", url)
    assert again.returncode == 0 and "3 event(s) read, 0 new, 3 already there" in again.stdout
    assert sorted((o.member, o.right) for o in outcomes_from_feedback(url)) == [("smollm2", 0.75), ("smollm2", 1.0)]
    shared = open_store(url)
    assert [r.accepted_chars for r in shared.records(events=("accepted_partial",))] == [6]
    shared.close()
