import gzip
import json
from dataclasses import asdict

from codequorum.bench.collect import request_for
from codequorum.bench.problems import Problem
from codequorum.core.prompts import build_prompt
from codequorum.distill.examples import from_collection, from_feedback
from codequorum.distill.sources import accepted_feedback, collection_records
from codequorum.stores.records import FeedbackRecord
from codequorum.stores.sqlite import SqliteStore
from codequorum.vocabulary.records import Record
from codequorum.vocabulary.store_location import parse_location

PROBLEMS = {f"HumanEval/{n}": Problem(f"HumanEval/{n}", f"def f{n}(x):\n", "def check(c): pass", f"f{n}")
            for n in range(4)}


def _record(problem: str, text: str, passed: bool | None, member: str = "qwen-large",
            error: str | None = None, kind: str = "chat") -> Record:
    return Record(problem, member, "k1-t0", 0, text, 10, 1.0, 0.0, None, {"prompt_kind": kind}, passed, error)


def test_only_candidates_that_passed_their_hidden_tests_in_the_half():
    records = [
        _record("HumanEval/0", "def f0(x):\n    return x\n", True),
        _record("HumanEval/0", "def f0(x):\n    return 1\n", False),
        _record("HumanEval/2", "def f2(x):\n    return x\n", None),  # never ran
        _record("HumanEval/2", "", True),
        _record("HumanEval/2", "def f2(x):\n    return 2\n", True, error="timeout"),
        _record("HumanEval/1", "def f1(x):\n    return x\n", True),  # the odd half
        _record("HumanEval/9", "def f9(x):\n    return x\n", True),  # not in the suite
        _record("HumanEval/0", "def f0(x):\n    return x\n", True, member="qwen-small"),  # same answer
        _record("HumanEval/2", "def f2(x):\n    return x * 1\n", True, member="qwen-small"),
        _record("HumanEval/2", "x = 1", True, kind="fim"),
    ]
    selection = from_collection(records, PROBLEMS, "even")
    assert [(e.key, e.answer) for e in selection.examples] == [
        ("HumanEval/0", "```python\ndef f0(x):\n    return x\n```"),
        ("HumanEval/2", "```python\ndef f2(x):\n    return x * 1\n```")]
    assert selection.left_out == {"not verified (hidden tests failed or never ran)": 3, "empty": 1,
                                  "problem of the other half": 1, "problem not in the suite": 1,
                                  "the same answer again": 1, "not a chat prompt": 1}


def test_the_prompt_is_the_one_the_bench_asked():
    [example] = from_collection([_record("HumanEval/0", "def f0(x):\n    return x\n", True)], PROBLEMS, "all").examples
    assert example.prompt == build_prompt(request_for(PROBLEMS["HumanEval/0"], 384, None), fim=None)
    assert example.prompt.kind == "chat"


def _event(suggestion: str, event: str, text: str = "return x", accepted_chars: int | None = None) -> FeedbackRecord:
    return FeedbackRecord(f"{suggestion}-{event}", suggestion, event, "inline", "qwen-small", "single",  # type: ignore[arg-type]
                          "python", 0, text, "def f(x):\n    ", "def f(x):\n    ", "\n", 1.0, 2.0, accepted_chars)


def test_feedback_examples_are_accepted_whole_and_never_dismissed(tmp_path):
    store = SqliteStore(parse_location(tmp_path / "feedback.sqlite3"))
    store.add([_event("a", "shown"), _event("a", "accepted"),
               _event("b", "accepted"), _event("b", "dismissed"),
               _event("c", "accepted_partial", accepted_chars=3),  # took "ret" only
               _event("d", "shown")])
    store.close()
    selection = from_feedback(accepted_feedback(tmp_path / "feedback.sqlite3"), "qwen")
    [example] = selection.examples
    assert (example.key, example.source, example.answer) == ("a", "feedback", "return x")
    assert example.prompt.kind == "fim"
    assert example.prompt.text == "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n<|fim_middle|>"


def test_collections_read_plain_and_gzipped_and_skip_a_cut_line(tmp_path):
    rows = [json.dumps(asdict(_record("HumanEval/0", "x", True))), '{"problem": "HumanEval/1", "mem']
    (tmp_path / "c.jsonl").write_text("\n".join(rows) + "\n")
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    for name in ("c.jsonl", "c.jsonl.gz"):
        assert [r.problem for r in collection_records(tmp_path / name)] == ["HumanEval/0"]
