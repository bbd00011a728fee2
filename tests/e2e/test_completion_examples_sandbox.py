"""An inline completion's snippets run the examples of the function around the cursor in the real
sandbox, and the ladder asks the next member when the strongest one's snippet fails them. The
members are scripted (their texts are real code); the checks and the sandbox are real."""

from __future__ import annotations

import pytest

from codequorum.core.engine import Engine
from codequorum.vocabulary.request import completion_request
from tests.unit.doubles import scripted_registry, scripted_settings

pytestmark = pytest.mark.e2e

PROGRAM = '''def same_chars(s0: str, s1: str) -> bool:
    """Whether the two words use the same characters.
    >>> same_chars('eabcdzzzz', 'dddzzzzzzzddddabce')
    True
    >>> same_chars('abcd', 'dddddddabce')
    False
    """
{gap}    return same


def other():
    return 1
'''
PREFIX, SUFFIX = PROGRAM.split("{gap}")
RIGHT = "    same = set(s0) == set(s1)\n"
WRONG = "    same = sorted(s0) == sorted(s1)\n"  # same letters, different counts: fails the first


STRONGEST = {"order": "strongest"}  # the ladder these tests are about; the default asks the cheap member first here


def engine(strong: str, cheap: str, **extra: object) -> Engine:
    members = {"strong": {"quality": 0.9, "price_per_1k_tokens": 5.0, "fim": "qwen", "options": {"replies": [strong]}},
               "cheap": {"quality": 0.3, "price_per_1k_tokens": 1.0, "fim": "qwen", "options": {"replies": [cheap]}}}
    return Engine(scripted_settings(members, ranking={"listwise": False}, **extra),
                  scripted_registry(disabled=frozenset()))


def request(prefix: str = PREFIX, suffix: str = SUFFIX):
    return completion_request(prefix + suffix, len(prefix), language="python", scope="block")


async def test_the_strong_snippet_failing_the_functions_examples_gives_way_to_the_cheap_one():
    result = await engine(WRONG, RIGHT).run(request(), strategy="confidence", options=STRONGEST)
    assert result.text == RIGHT
    assert [c.member for c in result.trace.calls] == ["strong", "cheap"]
    assert result.best.tests is not None and (result.best.tests.passed, result.best.tests.failed) == (2, 0)
    assert any("strong: its snippet fails 1 of 2 example(s)" in e for e in result.trace.events)


async def test_a_strong_snippet_passing_them_is_taken_alone():
    result = await engine(RIGHT, WRONG).run(request(), strategy="confidence", options=STRONGEST)
    assert result.text == RIGHT and [c.member for c in result.trace.calls] == ["strong"]


async def test_a_document_that_does_not_load_in_the_sandbox_is_no_evidence_against_a_snippet():
    prefix = "import a_module_only_the_users_project_has\n\n" + PREFIX
    result = await engine(WRONG, RIGHT).run(request(prefix), strategy="confidence", options=STRONGEST)
    assert result.text == WRONG and [c.member for c in result.trace.calls] == ["strong"]
    assert result.best.tests is None


async def test_a_snippet_that_never_ends_is_cut_at_the_completion_limit():
    looping = "    while True:\n        pass\n"
    result = await engine(looping, RIGHT, sandbox={"completion_timeout_s": 0.5}).run(
        request(), strategy="confidence", options=STRONGEST)
    assert result.text == RIGHT
    assert result.trace.seconds < 5


async def test_at_the_end_of_a_function_being_written_only_a_snippet_that_ends_it_runs_them():
    end = "\n\ndef other():\n    return 1\n"
    middle = await engine(WRONG, RIGHT).run(request(suffix=end), strategy="confidence", options=STRONGEST)
    assert middle.text == WRONG.rstrip("\n")  # the line after the cursor is there already
    assert middle.best.tests is None and [c.member for c in middle.trace.calls] == ["strong"]
    final = await engine("    return sorted(s0) == sorted(s1)\n", "    return set(s0) == set(s1)\n").run(
        request(suffix=end), strategy="confidence", options=STRONGEST)
    assert final.text == "    return set(s0) == set(s1)"
    assert [c.member for c in final.trace.calls] == ["strong", "cheap"]


async def test_cheapest_verified_takes_the_cheap_snippet_the_sandbox_verifies_and_escalates_the_one_it_fails():
    verified = {"order": "cheapest-verified"}
    alone = await engine(WRONG, RIGHT).run(request(), strategy="confidence", options=verified)
    assert alone.text == RIGHT and [c.member for c in alone.trace.calls] == ["cheap"]
    escalated = await engine(RIGHT, WRONG).run(request(), strategy="confidence", options=verified)
    assert escalated.text == RIGHT and [c.member for c in escalated.trace.calls] == ["cheap", "strong"]
    assert any("cheap: its snippet fails 1 of 2 example(s)" in e for e in escalated.trace.events)
