"""`codequorum serve` over stdio, driven like an editor, with the real models (Qwen2.5-Coder-0.5B
and SmolLM2-135M through llama.cpp). One server process for the module: models load once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled

from tests.e2e.conftest import ROOT
from tests.e2e.lsp_session import (
    command,
    configure,
    initialize,
    inline,
    inline_params,
    insert,
    open_document,
    start_stdio,
    stats,
    wait_until,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

CONFIG = """
[members.qwen-large]
enabled = false
[engine]
deadline_s = 300
[server]
inline_strategy = "best-of"  # the ensemble's settling and refinement, over both members
inline_members = ["qwen-small", "smollm2"]
debounce_ms = 20
inline_deadline_s = 300
inline_wait_for_all = true
background_refine = false
inline_max_tokens = 32
line_max_tokens = 24
generate_max_tokens = 64
generate_strategy = "single"
feedback_db = "{feedback_db}"
"""
# Deadlines are generous on purpose: content tests must not depend on how busy the machine is.
SERVER_SETTINGS = {"server": {"inline_deadline_s": 300, "inline_strategy": "best-of",
                              "inline_members": ["qwen-small", "smollm2"],
                              "inline_wait_for_all": True, "background_refine": False}}

STATS_PY = ROOT / "examples" / "stats.py"
MEAN_BODY = (5, 4)  # line and column (0-based) of the empty body of `mean`

INVENTORY = '''"""Stock levels for a small shop."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def stock_value(items: list[Item]) -> float:
    """Total value of the stock: price times quantity, summed over the items."""
    return sum(item.price * item.quantity for item in items)


def restock(items: list[Item], minimum: int) -> list[Item]:
    """The items whose quantity is below `minimum`, cheapest first."""
    low = [item for item in items if item.quantity < minimum]
    return sorted(low, key=lambda item: item.price)


def cheapest(items: list[Item]) -> Item:
    """The item with the lowest price."""
    
'''
CHEAPEST_BODY = (len(INVENTORY.split("\n")) - 2, 4)


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(installed_models, feedback_db, tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "codequorum.toml"
    config.write_text(CONFIG.format(feedback_db=feedback_db))
    client = await start_stdio(config)
    await initialize(client)
    yield client
    await client.shutdown_session()
    await client.stop()


def uri_for(name: str) -> str:
    return f"file:///workspace/{name}"


async def test_every_request_is_answered_while_the_models_load(client):
    """llama-cpp-python silences a model load by pointing fd 1 at /dev/null for a moment;
    on stdio that would swallow replies, and a client would wait for ever."""
    answered = 0
    async with asyncio.timeout(240):
        while (await asyncio.wait_for(stats(client), 30))["warm_up_seconds"] is None:
            answered += 1
            await asyncio.sleep(0.01)
    assert answered > 0, "the models had loaded before the test could watch"


async def test_inline_completion_fills_the_body_of_a_real_file(client):
    uri = uri_for("stats_copy.py")
    open_document(client, uri, STATS_PY.read_text())
    items = await inline(client, uri, *MEAN_BODY)
    assert items, "expected at least one suggestion"
    best = items[0].insert_text
    assert "values" in best and "def median" not in best
    for item in items:
        assert item.range == types.Range(types.Position(*MEAN_BODY), types.Position(*MEAN_BODY))
        assert item.command.command == "codequorum.accept" and isinstance(item.command.arguments[0], str)
    calls = (await stats(client))["last_run"]["calls"]
    assert {call["member"] for call in calls} == {"qwen-small", "smollm2"}


async def test_alternatives_follow_the_best_suggestion_without_repeats(client):
    uri = uri_for("inventory.py")
    open_document(client, uri, INVENTORY)
    items = await inline(client, uri, *CHEAPEST_BODY)
    texts = [item.insert_text for item in items]
    assert texts and len(texts) == len(set(texts))
    ranked = [c["member"] for c in (await stats(client))["last_run"]["calls"] if c["tokens"]]
    assert len(texts) <= len(ranked)


async def test_a_line_completion_is_one_line_and_does_not_retype_the_rest_of_the_line(client):
    uri = uri_for("line.py")
    text = "values = [3, 1, 2]\nprint(sorted())\n"
    open_document(client, uri, text)
    items = await inline(client, uri, 1, len("print(sorted("))
    assert items
    for item in items:
        assert "\n" not in item.insert_text
        assert not item.insert_text.endswith(")"), item.insert_text


async def test_a_repeated_request_is_answered_from_the_cache_without_a_model_call(client):
    uri = uri_for("repeat.py")
    open_document(client, uri, INVENTORY.replace("cheapest", "priciest").replace("lowest", "highest"))
    first = await inline(client, uri, *CHEAPEST_BODY)
    before = await stats(client)
    second = await inline(client, uri, *CHEAPEST_BODY)
    after = await stats(client)
    assert [i.insert_text for i in second] == [i.insert_text for i in first]
    assert after["engine_runs"] == before["engine_runs"]
    assert after["member_calls"] == before["member_calls"]
    assert after["cache_hits"] == before["cache_hits"] + 1


async def test_typing_the_start_of_the_suggestion_gets_the_rest_without_a_model_call(client):
    uri = uri_for("typed.py")
    open_document(client, uri, STATS_PY.read_text())
    [best, *_] = await inline(client, uri, *MEAN_BODY)
    typed = best.insert_text[:3]
    assert "\n" not in typed
    before = await stats(client)
    insert(client, uri, 2, *MEAN_BODY, typed)
    items = await inline(client, uri, MEAN_BODY[0], MEAN_BODY[1] + len(typed))
    after = await stats(client)
    assert items[0].insert_text == best.insert_text[3:]
    assert after["engine_runs"] == before["engine_runs"]
    assert after["typed_through_hits"] == before["typed_through_hits"] + 1


async def test_cancel_request_stops_the_models_not_just_the_reply(client):
    uri = uri_for("cancel.py")
    text = INVENTORY.replace("cheapest", "dearest")
    open_document(client, uri, text)
    before = await stats(client)
    pending = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, *CHEAPEST_BODY), msg_id="cancel-me"))
    await wait_until(client, lambda s: s["engine_runs"] > before["engine_runs"])
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    stopped = await stats(client)
    assert stopped["cancelled"] == before["cancelled"] + 1
    assert stopped["active_runs"] == 0  # the reply came only once the backends had stopped
    # The same request, not cancelled, for comparison: it generates more.
    assert await inline(client, uri, *CHEAPEST_BODY)
    full = await stats(client)
    stopped_tokens = sum(call["tokens"] for call in stopped["last_stopped_run"]["calls"])
    full_tokens = sum(call["tokens"] for call in full["last_run"]["calls"])
    assert stopped_tokens < full_tokens


async def test_a_newer_request_for_the_document_supersedes_the_older_one(client):
    uri = uri_for("supersede.py")
    open_document(client, uri, INVENTORY.replace("cheapest", "rarest"))
    before = await stats(client)
    older = asyncio.ensure_future(inline(client, uri, *CHEAPEST_BODY))
    await wait_until(client, lambda s: s["engine_runs"] > before["engine_runs"])
    insert(client, uri, 2, *CHEAPEST_BODY, "r")
    newer = await inline(client, uri, CHEAPEST_BODY[0], CHEAPEST_BODY[1] + 1)
    assert await older == []
    assert newer
    after = await stats(client)
    assert after["superseded"] == before["superseded"] + 1


# The fast and the slow member of the two tests below: both fill in the middle, so the fast
# one's snippet is usable (SmolLM2's chat answers at these places are not, and are cut to nothing).
TWO_QWENS = {"members": {"qwen-large": {"enabled": True}},
             "server": {"inline_members": ["qwen-small", "qwen-large"], "inline_strategy": "best-of"}}


def with_server(settings: dict, **server: object) -> dict:
    return {**settings, "server": {**settings["server"], **server}}


async def test_at_the_deadline_the_fast_member_answers(client):
    uri = uri_for("deadline.py")
    open_document(client, uri, INVENTORY.replace("cheapest", "lightest"))
    await configure(client, with_server(TWO_QWENS, inline_strategy="single", inline_members=["qwen-small"]))
    assert await inline(client, uri, *CHEAPEST_BODY)
    fast_seconds = (await stats(client))["last_run"]["seconds"]
    # Cheapest member first: qwen-small answers (its prompt is now cached); qwen-large, which
    # needs several times longer (and loading first), is cut by the deadline.
    await configure(client, with_server(TWO_QWENS, inline_deadline_s=1.5 * fast_seconds,
                                        inline_wait_for_all=True))  # no settling: the deadline cuts
    before = await stats(client)
    items = await inline(client, uri, *CHEAPEST_BODY)
    after = await stats(client)
    await configure(client, SERVER_SETTINGS)
    assert items, "the fast member's answer should have been returned"
    calls = {call["member"]: call for call in after["last_run"]["calls"]}
    assert calls["qwen-small"]["error"] is None and calls["qwen-small"]["tokens"] > 0
    assert "deadline" in (calls["qwen-large"]["error"] or ""), calls
    assert after["deadline_fallbacks"] == before["deadline_fallbacks"] + 1


async def test_the_answer_comes_after_the_fast_member_and_a_refinement_improves_it(client):
    uri = uri_for("settle.py")
    open_document(client, uri, INVENTORY.replace("cheapest", "newest"))
    # qwen-small is the cheapest, so it goes first; a settle ratio of 0 stops qwen-large then.
    await configure(client, with_server(TWO_QWENS, inline_wait_for_all=False, inline_settle_ratio=0,
                                        background_refine=True))
    try:
        before = await stats(client)
        first = await inline(client, uri, *CHEAPEST_BODY)
        answered = await stats(client)
        refined = await wait_until(client, lambda s: s["refining"] == 0)
        again = await inline(client, uri, *CHEAPEST_BODY)  # the refined entry, from the cache
        after = await stats(client)
    finally:
        await configure(client, SERVER_SETTINGS)
    calls = {call["member"]: call for call in answered["last_run"]["calls"]}
    assert first and {member_of(item) for item in first} == {"qwen-small"}
    assert calls["qwen-large"]["stopped"] == "settled" and calls["qwen-large"]["error"] is None
    assert answered["refinements"] == before["refinements"] + 1
    assert refined["refinements_done"] == before["refinements_done"] + 1
    assert after["cache_hits"] == refined["cache_hits"] + 1
    assert "qwen-large" in {member_of(item) for item in again}


def member_of(item: types.InlineCompletionItem) -> str:
    return item.command.title.split(": ", 1)[1]


async def test_bad_configuration_is_shown_key_by_key_and_the_rest_applies(client):
    uri = uri_for("config.py")
    open_document(client, uri, STATS_PY.read_text().replace("mean", "average"))
    await configure(client, {"server": {"alternatives": 0}})
    await configure(client, {"server": {"alternatives": "many", "debounce_ms": -5}})
    [message] = [m for m in client.messages if "workspace/didChangeConfiguration" in m.message]
    # Refused key by key (the allow-list, stdio included), each named with its reason
    assert message.type == types.MessageType.Warning and "not applied" in message.message
    assert "server.alternatives" in message.message and "server.debounce_ms" in message.message
    items = await inline(client, uri, *MEAN_BODY)
    assert items  # the server still answers, on its own values for the refused keys
    await configure(client, {"server": {"alternatives": 3}})


async def test_classic_completion_items_insert_the_snippet(client):
    uri = uri_for("classic.py")
    open_document(client, uri, STATS_PY.read_text().replace("mean", "arithmetic_mean"))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(*MEAN_BODY)))
    assert result.is_incomplete and result.items
    best = result.items[0]
    assert best.text_edit.new_text.strip().startswith(best.label)
    assert best.text_edit.range.start == types.Position(*MEAN_BODY)
    assert best.command.command == "codequorum.accept" and best.preselect


async def test_feedback_is_stored_with_member_and_strategy(client, feedback_db):
    uri = uri_for("feedback.py")
    open_document(client, uri, STATS_PY.read_text().replace("mean", "midpoint"))
    [best, *_] = await inline(client, uri, *MEAN_BODY)
    suggestion_id = best.command.arguments[0]
    before = await stats(client)
    client.protocol.notify("codequorum/feedback", {"id": suggestion_id, "event": "shown"})
    assert await command(client, "codequorum.accept", suggestion_id) == {"stored": True}
    client.protocol.notify("codequorum/feedback", {"id": "no-such-id", "event": "dismissed"})
    after = await stats(client)
    assert after["feedback_events"] == before["feedback_events"] + 2
    assert after["unknown_feedback"] == before["unknown_feedback"] + 1
    rows = sqlite3.connect(feedback_db).execute(
        "SELECT event, member, strategy, language, kind, text FROM feedback WHERE suggestion_id = ?",
        (suggestion_id,)).fetchall()
    assert sorted(row[0] for row in rows) == ["accepted", "shown"]
    assert {row[1:] for row in rows} == {(best.command.title.split(": ")[1], "best-of", "python",
                                         "inline", best.insert_text)}


async def test_generate_from_a_comment_applies_an_edit_with_progress(client):
    uri = uri_for("generate.py")
    text = "# Write a function add(a, b) that returns the sum of a and b.\n"
    open_document(client, uri, text)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), types.Range(types.Position(0, 3), types.Position(0, 3)),
        types.CodeActionContext(diagnostics=[])))
    [action] = actions
    assert action.title == "Generate with codequorum"
    result = await command(client, action.command.command, *action.command.arguments)
    assert result["applied"] is True and "def add" in result["text"]
    [edit] = client.applied_edits
    [change] = edit.document_changes
    assert change.text_document.uri == uri and change.edits[0].new_text == result["text"]
    assert change.edits[0].range.start == types.Position(1, 0)
    kinds = [[report.kind for report in reports] for reports in client.progress_reports.values()]
    assert ["begin", "end"] in kinds


async def test_generate_refuses_a_line_that_is_not_a_comment(client):
    uri = uri_for("generate_bad.py")
    open_document(client, uri, "x = 1\n")
    with pytest.raises(JsonRpcInvalidParams) as error:
        await command(client, "codequorum.generate", {"uri": uri, "line": 0})
    assert "not a comment" in error.value.message


async def test_commands_with_wrong_arguments_say_what_they_take(client):
    with pytest.raises(JsonRpcInvalidParams) as error:
        await command(client, "codequorum.accept", 1, 2)
    assert "takes one argument, the suggestion id" in error.value.message
    with pytest.raises(JsonRpcInvalidParams) as error:
        await command(client, "codequorum.generate", {"uri": uri_for("x.py")})
    assert "exactly one of `range`" in error.value.message


async def test_unknown_documents_and_positions_outside_are_clear_errors(client):
    with pytest.raises(JsonRpcInvalidParams) as error:
        await inline(client, uri_for("never_opened.py"), 0, 0)
    assert "is not open" in error.value.message
    uri = uri_for("short.py")
    open_document(client, uri, "x = 1\n")
    with pytest.raises(JsonRpcInvalidParams) as error:
        await inline(client, uri, 40, 0)
    assert "line 40 is outside" in error.value.message


async def test_a_malformed_request_gets_an_error_and_the_server_keeps_serving(client):
    reply = send_raw(client, {"jsonrpc": "2.0", "id": "bad-1", "method": "textDocument/inlineCompletion",
                              "params": {"textDocument": {"uri": uri_for("x.py")}, "position": "here"}})
    with pytest.raises(JsonRpcInvalidParams) as error:
        await asyncio.wait_for(reply, 30)
    assert "position" in error.value.message
    client.protocol.writer.write(b"Content-Length: 9\r\n\r\n{not json")
    assert "requests" in await stats(client)
    assert any("not valid JSON-RPC" in m.message and m.type == types.MessageType.Error
               for m in client.messages)


def send_raw(client, message: dict) -> asyncio.Future:
    """Write a message the typed client could not produce, and await its response."""
    import concurrent.futures

    future: concurrent.futures.Future = concurrent.futures.Future()
    client.protocol._request_futures[message["id"]] = future
    body = json.dumps(message)
    client.protocol.writer.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
    return asyncio.wrap_future(future)
