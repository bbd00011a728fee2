import gzip
import random
import json
from dataclasses import asdict

import pytest

from codequorum.bench.collect import request_for
from codequorum.bench.problems import Problem
from codequorum.core.prompts import build_prompt
from codequorum.distill.examples import TrainingExample, capped, from_collection, from_feedback, from_verified
from codequorum.distill.sources import accepted_feedback, collection_records, verified_answers
from codequorum.stores.records import FeedbackRecord
from codequorum.stores.sqlite import SqliteStore
from codequorum.stores.verified import VerifiedAnswer, VerifiedLog
from codequorum.vocabulary.records import Record
from codequorum.vocabulary.request import Request, TaskKind
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


SOLVED = '''from typing import List


def f0(x: List[int]) -> int:
    """Sum.
    >>> f0([1, 2])
    3
    """
    total = 0
    for value in x:
        total += value
    return total
'''


def test_a_verified_answer_asked_as_an_editor_asks_gives_back_its_program():
    records = [_record("HumanEval/0", SOLVED, True)]
    [example] = from_collection(records, PROBLEMS, "even", forms=("fim",), fim="qwen").examples
    assert (example.key, example.source, example.prompt.kind) == ("HumanEval/0", "collection", "fim")
    prefix, rest = example.prompt.text.removeprefix("<|fim_prefix|>").split("<|fim_suffix|>")
    suffix = rest.removesuffix("<|fim_middle|>")
    assert prefix + example.answer + suffix == SOLVED
    assert example.answer.endswith("\n") and example.answer.strip()
    # the gap is whole lines of the function's body, after its docstring
    assert prefix.endswith("\n") and '"""\n' in prefix


def test_the_gap_is_drawn_per_answer_and_the_same_on_every_run():
    records = [_record("HumanEval/0", SOLVED, True)]
    first = from_collection(records, PROBLEMS, "even", forms=("fim",), fim="qwen", seed=0).examples
    again = from_collection(records, PROBLEMS, "even", forms=("fim",), fim="qwen", seed=0).examples
    drawn = {from_collection(records, PROBLEMS, "even", forms=("fim",), fim="qwen", seed=s).examples[0].answer
             for s in range(12)}
    assert first == again
    assert len(drawn) > 1  # the seed draws other gaps, single lines and spans
    assert any(answer.count("\n") == 1 for answer in drawn) and any(answer.count("\n") > 1 for answer in drawn)


def test_both_forms_ask_each_answer_twice_and_count_what_was_left_out_once():
    records = [_record("HumanEval/0", SOLVED, True), _record("HumanEval/0", SOLVED, False),
               _record("HumanEval/2", "def f2(x):\n    pass\n", True),  # one body line: a single-line gap
               _record("HumanEval/2", "f2 = lambda x: x\n", True)]  # no function to cut a gap from
    selection = from_collection(records, PROBLEMS, "even", forms=("chat", "fim"), fim="qwen")
    assert [(e.key, e.prompt.kind) for e in selection.examples] == [
        ("HumanEval/0", "chat"), ("HumanEval/0", "fim"), ("HumanEval/2", "chat"), ("HumanEval/2", "fim"),
        ("HumanEval/2", "chat")]
    assert selection.left_out == {"not verified (hidden tests failed or never ran)": 1,
                                  "no function body to cut a FIM gap from": 1}


def test_an_answer_that_does_not_restate_the_prompt_is_cut_in_the_prompt_plus_the_answer():
    problem = Problem("HumanEval/0", 'def f0(x):\n    """Twice."""\n', "def check(c): pass", "f0")
    [example] = from_collection([_record("HumanEval/0", "    y = x * 2\n    return y\n", True)], {"HumanEval/0": problem},
                                "all", forms=("fim",), fim="qwen").examples
    assert example.prompt.text.startswith('<|fim_prefix|>def f0(x):\n    """Twice."""\n')
    assert example.answer in ("    y = x * 2\n", "    return y\n", "    y = x * 2\n    return y\n")


def test_fim_examples_need_the_members_fim_format():
    with pytest.raises(ValueError, match="FIM format"):
        from_collection([], PROBLEMS, "even", forms=("fim",), fim=None)


def _kept(kind: str = "generate", answer: str = SOLVED, **fields) -> VerifiedAnswer:
    defaults = {"instruction": "Sum the list", "tests": "assert f0([1, 2]) == 3\n"} if kind == "generate" else {
        "instruction": "E   assert 2 == 3", "code": "def f0(x):\n    return 0\n", "functions": ("f0", "helper")}
    return VerifiedAnswer(kind=kind, language="python", answer=answer, member="qwen-large",  # type: ignore[arg-type]
                          verified_by="pytest -q", **{**defaults, **fields})


def test_kept_answers_are_asked_as_generate_and_fix_asked_them():
    entries = [_kept("generate"), _kept("fix"), _kept("generate"), _kept("generate", answer="  \n")]
    selection = from_verified(entries)
    generate, fix = selection.examples
    assert generate.source == fix.source == "verified" and generate.key != fix.key
    assert generate.prompt == build_prompt(Request(TaskKind.GENERATE, language="python", instruction="Sum the list",
                                                   tests="assert f0([1, 2]) == 3\n", max_tokens=384), fim=None)
    assert fix.prompt == build_prompt(Request(TaskKind.FIX, language="python", prefix="def f0(x):\n    return 0\n",
                                              instruction="E   assert 2 == 3", functions=("f0", "helper")), fim=None)
    asked = fix.prompt.messages[-1].content
    assert "assert 2 == 3" in asked and "helper" in asked and "return 0" in asked
    assert generate.answer == "```python\n" + SOLVED.rstrip("\n") + "\n```"
    assert selection.left_out == {"the same answer again": 1, "empty": 1}


def test_a_kept_answer_asked_as_an_editor_asks_is_a_gap_in_the_function_it_wrote():
    selection = from_verified([_kept("generate"), _kept("generate", instruction="other", answer="X = 1\n")],
                              forms=("fim",), fim="qwen")
    [example] = selection.examples
    prefix, rest = example.prompt.text.removeprefix("<|fim_prefix|>").split("<|fim_suffix|>")
    assert prefix + example.answer + rest.removesuffix("<|fim_middle|>") == SOLVED
    assert '"""\n' in prefix  # after the first function's docstring
    assert selection.left_out == {"no function body to cut a FIM gap from": 1}
    unformatted = from_verified([_kept("generate")], forms=("chat", "fim"), fim=None)
    assert [e.prompt.kind for e in unformatted.examples] == ["chat"]
    assert unformatted.left_out == {"a FIM gap, but the student has no FIM format": 1}


def test_the_verified_log_is_a_source(tmp_path):
    log = VerifiedLog(tmp_path / "verified.jsonl", retention_days=None)
    log.append(_kept("fix"))
    assert [e.kind for e in verified_answers(log.path, None)] == ["fix"]
    assert verified_answers(tmp_path / "none-yet.jsonl", 90) == []


def _examples(source: str, count: int) -> list[TrainingExample]:
    return [TrainingExample(f"{source}-{n}", source, build_prompt(Request(TaskKind.GENERATE, instruction="x"), fim=None),
                            f"answer {n}") for n in range(count)]  # type: ignore[arg-type]


def test_the_cap_keeps_a_small_source_whole():
    bench, verified = _examples("collection", 200), _examples("verified", 3)
    taken = capped(bench + verified, 20, seed=0)
    assert len(taken) == 20 and len({e.key for e in taken}) == 20
    assert sum(e.source == "verified" for e in taken) == 3
    assert capped(bench + verified, 20, seed=0) == taken  # the seed decides, nothing else
    assert capped(verified, 20, seed=0) == verified  # under the cap: all, as they were
    assert capped(bench, 20, seed=0) == random.Random(0).sample(bench, 20)  # one source: a plain sample
