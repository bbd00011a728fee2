import json

import numpy as np
import pytest

from codequorum.plugins.strategies.route import RouteStrategy
from codequorum.routing.knn import Prediction, expected_cost, nearest, predict, trade_off
from codequorum.routing.memory import (
    Entry,
    Outcome,
    RouterMemory,
    build_memory,
    entries_from_outcomes,
    outcomes_from_bench,
    outcomes_from_feedback,
    request_text,
)
from codequorum.routing.memory_source import save_memory
from codequorum.server.feedback_store import SentSuggestion, record_for
from codequorum.server.suggestions import Suggestion
from codequorum.stores.open import open_store
from codequorum.vocabulary.records import CandidateStore, Record
from codequorum.vocabulary.request import Budget, Request, TaskKind
from tests.unit.plugins.strategies.fakes import answer, engine, member

TOPICS = ("sort", "add", "parse")


class TopicEmbedder:
    """One axis per topic word in the text, a fourth for none; L2-normalised like MiniLM's."""

    def embed(self, texts):
        rows = []
        for text in texts:
            row = np.array([float(t in text) for t in TOPICS] + [float(not any(t in text for t in TOPICS))])
            rows.append(row / np.linalg.norm(row))
        return np.asarray(rows, dtype=np.float32)


def entry(text, outcomes, tokens=None):
    return Entry(text=text, source="test", outcomes=outcomes, tokens=tokens or {})


# ---- kNN prediction ---------------------------------------------------------------------


def test_nearest_orders_by_cosine_and_keeps_k():
    memory = build_memory([entry("sort a list", {}), entry("add numbers", {}), entry("sort and add", {})],
                          TopicEmbedder())
    [query] = TopicEmbedder().embed(["sort it"])
    found = nearest(query, memory.matrix, memory.entries, k=2)
    assert [n.entry.text for n in found] == ["sort a list", "sort and add"]
    assert found[0].similarity == pytest.approx(1.0) and found[1].similarity == pytest.approx(2 ** -0.5)
    assert nearest(query, memory.matrix, [], k=2) == []


def test_quality_is_the_share_of_neighbours_a_member_got_right_where_observed():
    memory = build_memory([entry("a", {"x": 1.0, "y": 0.0}, {"x": 10}), entry("b", {"x": 0.0}, {"x": 30}),
                           entry("c", {"x": 1.0, "y": 0.5})], TopicEmbedder())
    neighbours = nearest(memory.matrix[0], memory.matrix, memory.entries, k=3)
    predictions = predict(neighbours, ["x", "y", "z"])
    assert predictions["x"] == Prediction("x", quality=pytest.approx(2 / 3), observed=3, tokens=20.0)
    assert predictions["y"].quality == pytest.approx(0.25) and predictions["y"].observed == 2
    assert predictions["y"].tokens is None
    assert "z" not in predictions  # never observed: no prediction


def test_the_trade_off_normalises_cost_by_the_dearest_member():
    predictions = {"cheap": Prediction("cheap", 0.6, 5, None), "dear": Prediction("dear", 0.8, 5, None)}
    costs = {"cheap": expected_cost(21.0, 100), "dear": expected_cost(33.0, 100)}
    assert costs == {"cheap": pytest.approx(2.1), "dear": pytest.approx(3.3)}
    neutral = trade_off(predictions, costs, willingness_to_pay=1.0)
    assert [c.member for c in neutral] == ["cheap", "dear"]
    assert neutral[0].normalised_cost == pytest.approx(21 / 33) and neutral[1].normalised_cost == 1.0
    assert neutral[0].score == pytest.approx(0.6 - 21 / 33) and neutral[1].score == pytest.approx(-0.2)
    assert trade_off(predictions, costs, willingness_to_pay=0.0)[0].member == "cheap"
    assert trade_off(predictions, costs, willingness_to_pay=5.0)[0].member == "dear"


def test_free_members_are_chosen_on_quality_alone():
    predictions = {"a": Prediction("a", 0.4, 5, None), "b": Prediction("b", 0.6, 5, None)}
    assert trade_off(predictions, {"a": 0.0, "b": 0.0}, 1.0)[0].member == "b"


# ---- the memory -------------------------------------------------------------------------


def test_outcomes_are_grouped_per_request_text():
    entries = entries_from_outcomes([Outcome("t", "x", 1.0, 10), Outcome("t", "x", 0.0, 30),
                                     Outcome("t", "y", 1.0), Outcome("u", "x", 0.0)], {"t": "bench:P1"})
    by_text = {e.text: e for e in entries}
    assert by_text["t"].outcomes == {"x": 0.5, "y": 1.0} and by_text["t"].tokens == {"x": 20.0}
    assert by_text["t"].source == "bench:P1" and by_text["u"].source == "feedback"


def test_the_memory_is_built_from_a_bench_folder(tmp_path):
    request = Request(TaskKind.GENERATE, language="python", instruction="sort", prefix="def s(xs):\n")
    CandidateStore(tmp_path / "candidates.jsonl").append([
        Record("P1", "x", "k1-t0", 0, "...", 12, 0.1, 0.1, None, passed=True),
        Record("P1", "y", "k1-t0", 0, "", 0, 0.0, 0.0, None, passed=False, error="boom"),
        Record("P9", "x", "k1-t0", 0, "...", 12, 0.1, 0.1, None, passed=True),  # not a given problem
    ])
    outcomes, sources = outcomes_from_bench(tmp_path, {"P1": request})
    assert [(o.member, o.right, o.tokens) for o in outcomes] == [("x", 1.0, 12), ("y", 0.0, None)]
    assert sources == {request_text(request): "bench:P1"}
    memory = build_memory(entries_from_outcomes(outcomes, sources), TopicEmbedder())
    memory.save(tmp_path / "memory.jsonl")
    [loaded] = RouterMemory.load(tmp_path / "memory.jsonl").entries
    assert loaded.outcomes == {"x": 1.0, "y": 0.0} and len(loaded.embedding) == 4
    with pytest.raises(Exception, match="holds no candidates.jsonl"):
        outcomes_from_bench(tmp_path / "nowhere", {})


def test_editor_feedback_counts_accepted_as_right_and_dismissed_as_wrong(tmp_path):
    store = open_store(tmp_path / "feedback.sqlite3")
    for event, name in (("shown", "x"), ("accepted", "x"), ("dismissed", "y")):
        sent = SentSuggestion(Suggestion("code", name, "single"), "inline", "python", 0, "def sort_items(xs):\n    ",
                              0.0)
        store.add([record_for("id", event, sent, keep_text=True)])
    store.close()
    outcomes = outcomes_from_feedback(tmp_path / "feedback.sqlite3")
    assert sorted((o.member, o.right) for o in outcomes) == [("x", 1.0), ("y", 0.0)]
    assert outcomes_from_feedback(f"sqlite://{tmp_path / 'feedback.sqlite3'}") == outcomes
    assert outcomes_from_feedback(tmp_path / "none.sqlite3") == []


def test_a_suggestion_taken_in_part_counts_once_by_the_share_taken(tmp_path):
    store = open_store(tmp_path / "feedback.sqlite3")
    tail = "def sort_items(xs):\n    "

    def event(suggestion_id, kind, name, text="return sorted(xs)", keep_text=True, **fields):
        sent = SentSuggestion(Suggestion(text, name, "single"), "inline", "python", 0, tail, 0.0)
        store.add([record_for(suggestion_id, kind, sent, keep_text=keep_text, **fields)])

    event("a", "accepted_partial", "halves", text="return xs", accepted_chars=3)  # the word "ret"
    event("a", "accepted_partial", "halves", text="return xs", accepted_chars=6)  # then "return": 6 of 9
    event("b", "accepted_partial", "whole", accepted_chars=7)
    event("b", "accepted", "whole")  # taken word by word to its end, then accepted: 1.0, once
    event("c", "accepted_partial", "unkept", keep_text=False, accepted_chars=4)  # no text: no share
    store.close()
    outcomes = outcomes_from_feedback(tmp_path / "feedback.sqlite3")
    assert sorted((o.member, round(o.right, 3)) for o in outcomes) == [("halves", 0.667), ("whole", 1.0)]


def test_a_completion_is_routed_on_the_text_before_the_cursor():
    request = Request(TaskKind.COMPLETE, prefix="x" * 600 + "def sort(", suffix="):")
    assert request_text(request) == ("x" * 600 + "def sort(")[-500:]


# ---- the strategy through the engine ----------------------------------------------------

CHEAP = {"quality": 0.3, "price_per_1k_tokens": 20.0}
DEAR = {"quality": 0.9, "price_per_1k_tokens": 40.0}


class FakeRoute(RouteStrategy):
    embedder_class = TopicEmbedder


@pytest.fixture
def memory_file(tmp_path):
    """Five sorting requests the cheap member got right, five parsing ones only the dear one."""
    entries = [entry(f"sort list {i}", {"cheap": 1.0, "dear": 1.0}, {"cheap": 50, "dear": 50}) for i in range(5)]
    entries += [entry(f"parse text {i}", {"cheap": 0.0, "dear": 1.0}, {"cheap": 50, "dear": 50}) for i in range(5)]
    path = tmp_path / "memory.jsonl"
    build_memory(entries, TopicEmbedder()).save(path)
    return path


def route_engine(members, **extra):
    eng = engine(members, **extra)
    eng.runtime.registry.register("strategies", "route", FakeRoute)
    return eng


def ask(instruction, **fields):
    return Request(TaskKind.GENERATE, language="python", instruction=instruction, **fields)


def calls(result):
    return [call.member for call in result.trace.calls]


async def test_an_easy_region_is_routed_to_the_cheap_member(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("sort these"), strategy="route", options={"memory": str(memory_file)})
    assert calls(result) == ["cheap"]
    events = result.trace.events
    assert events[0] == "5 nearest of 10 past requests, similarity 1.00..1.00"
    assert events[1] == "score = 1 × P − cost / dearest: cheap P 1.00, cost 0.50 → 0.50, " \
                        "dear P 1.00, cost 1.00 → 0.00"
    assert "routed to cheap" in events
    assert result.trace.stop_reason == "routed to cheap (P = 1.00, score 0.50)"


async def test_the_memory_can_live_in_a_store_that_servers_share(memory_file, tmp_path):
    shared = f"sqlite://{tmp_path / 'shared.sqlite3'}"
    save_memory(RouterMemory.load(memory_file), shared)
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("sort these"), strategy="route", options={"memory": shared})
    assert calls(result) == ["cheap"]
    assert result.trace.events[0] == "5 nearest of 10 past requests, similarity 1.00..1.00"


async def test_a_hard_region_is_worth_the_dear_member(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("parse this"), strategy="route", options={"memory": str(memory_file)})
    assert calls(result) == ["dear"] and result.text.strip() == answer(9).strip()


async def test_no_willingness_to_pay_always_takes_the_cheapest(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("parse this"), strategy="route",
                           options={"memory": str(memory_file), "willingness_to_pay": 0})
    assert calls(result) == ["cheap"]


async def test_an_unseen_region_falls_back_to_the_cascade(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("something else"), strategy="route",
                           options={"memory": str(memory_file), "cascade": {"samples": 1}})
    assert result.trace.events[0] == ("unseen region: 5 neighbour(s) of k = 5, closest similarity 0.00 "
                                      "(min_similarity 0.5): falling back to cascade")
    assert result.trace.events[1].startswith("cascade, cheapest first: cheap")
    assert calls(result) == ["cheap", "dear"]  # one untested answer cannot be accepted


async def test_too_few_neighbours_is_an_unseen_region(memory_file):
    eng = route_engine({"cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("sort"), strategy="route", options={"memory": str(memory_file), "k": 11})
    assert result.trace.events[0].startswith("unseen region: 10 neighbour(s) of k = 11")


async def test_a_missing_memory_falls_back_and_says_how_to_build_it(tmp_path):
    eng = route_engine({"cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("sort"), strategy="route", options={"memory": str(tmp_path / "none.jsonl")})
    assert "codequorum router build --from" in result.trace.events[0]
    assert result.text.strip() == answer(1).strip()


async def test_a_failing_routed_member_hands_over_to_the_next_best(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": {**CHEAP, "options": {"fail": "down"}}})
    result = await eng.run(ask("sort these"), strategy="route", options={"memory": str(memory_file)})
    assert calls(result) == ["cheap", "dear"]
    assert "cheap gave no answer" in result.trace.events
    assert result.trace.stop_reason.startswith("routed to dear")


async def test_a_member_over_the_budget_is_not_chosen(memory_file):
    eng = route_engine({"dear": member([answer(9)], **DEAR), "cheap": member([answer(1)], **CHEAP)})
    result = await eng.run(ask("parse this", budget=Budget(max_cost=1.5)), strategy="route",
                           options={"memory": str(memory_file)})  # expected: cheap 1.0, dear 2.0
    assert calls(result) == ["cheap"]
    assert "over max_cost 1.5: dear" in result.trace.events


async def test_members_unknown_to_the_memory_fall_back(memory_file):
    eng = route_engine({"other": member([answer(3)])})
    result = await eng.run(ask("sort"), strategy="route", options={"memory": str(memory_file)})
    assert "no member of this request was observed on the neighbours: falling back to cascade" \
        in result.trace.events


def test_the_memory_file_is_plain_json_lines(memory_file):
    first = json.loads(memory_file.read_text().splitlines()[0])
    assert set(first) == {"text", "source", "outcomes", "tokens", "embedding"}
