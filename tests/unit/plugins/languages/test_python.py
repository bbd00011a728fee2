from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.python import PythonLanguage

PY = PythonLanguage()

FUNCTION = "def add(a, b):\n    "
BROKEN_ELSEWHERE = "def broken(:\n    pass\n\n\ndef add(a, b):\n    "


def test_is_a_language_plugin():
    assert isinstance(PY, Language)
    assert PY.name == "python" and ".py" in PY.extensions and PY.comment_prefix == "#"
    assert "py" in PY.markdown_tags


def test_syntax_issues_counts_errors_missing_nodes_and_empty_bodies():
    assert PY.syntax_issues("def f(x):\n    return x\n") == 0
    assert PY.syntax_issues("def f(x:\n    return x\n") >= 1
    assert PY.syntax_issues("def f():\n") == 1  # the grammar accepts an empty body; Python does not


def test_good_insertion_is_ok_balanced_and_complete():
    verdict = PY.insertion_verdict(FUNCTION, "return a + b", "\n")
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


def test_multiline_insertion_is_ok():
    snippet = "total = 0\n    for x in (a, b):\n        total += x\n    return total"
    verdict = PY.insertion_verdict(FUNCTION, snippet, "\n")
    assert verdict.ok and verdict.balanced and verdict.complete


@pytest.mark.parametrize("snippet", ["return a +", "return a b", "if a:", "return (a + b"])
def test_broken_insertion_is_not_ok(snippet):
    verdict = PY.insertion_verdict(FUNCTION, snippet, "\n")
    assert not verdict.ok
    assert verdict.new_errors >= 1
    assert not verdict.complete


def test_already_broken_document_still_accepts_a_good_snippet():
    assert PY.syntax_issues(BROKEN_ELSEWHERE + "\n") > 0
    assert PY.insertion_verdict(BROKEN_ELSEWHERE, "return a + b", "\n").ok
    assert not PY.insertion_verdict(BROKEN_ELSEWHERE, "return a +", "\n").ok


def test_a_snippet_that_repairs_the_broken_spot_at_the_cursor_is_ok():
    prefix, suffix = "total = compute(1, ", "\nprint(total)\n"
    assert PY.syntax_issues(prefix + suffix) > 0
    repaired = PY.insertion_verdict(prefix, "2)", suffix)
    assert repaired.ok and repaired.balanced and repaired.complete
    # Inside a region that was already one ERROR the parser cannot say more; balance can.
    assert not PY.insertion_verdict(prefix, "2))", suffix).balanced


def test_filling_an_empty_body_is_ok():
    verdict = PY.insertion_verdict("def f():\n    ", "pass", "\n\n\ndef g():\n    return 1\n")
    assert verdict.ok and verdict.complete


def test_line_completion_finished_by_the_suffix_is_ok_and_complete():
    verdict = PY.insertion_verdict("print(compute(", "1, 2)", ")\n")
    assert verdict.ok and verdict.balanced and verdict.complete


@pytest.mark.parametrize(("snippet", "balanced"), [
    ("return [a, (b, {'k': 1})]", True),
    ("s = 'a(b[c'  # ) ]", True),
    ('s = f"{a!r} ("', True),
    ("return [a, (b", False),
    ("return (a]", False),
    ('s = "abc', False),
    ("s = '''doc", False),
])
def test_balanced_ignores_brackets_in_strings_and_comments(snippet, balanced):
    assert PY.insertion_verdict(FUNCTION, snippet, "\n    return s\n").balanced is balanced


def test_closing_a_bracket_the_prefix_opened_is_balanced():
    assert PY.insertion_verdict("x = max(", "a, b)", "\n").balanced


@pytest.mark.parametrize(("snippet", "complete"), [
    ("return a + b", True),
    ("for x in a:\n        print(x)", True),
    ("x = 1\n    y = ", False),
    ("for x in a:", False),
    ("print(a,", False),
    ("", False),
])
def test_complete_means_the_snippet_ends_a_statement(snippet, complete):
    assert PY.insertion_verdict(FUNCTION, snippet, "\n").complete is complete


def test_generated_code_is_checked_alone():
    assert PY.insertion_verdict("", "def f(x):\n    return [x, (1, 2)]\n", "").ok
    assert not PY.insertion_verdict("", "def f(x):\n    return [x, (1, 2]\n", "").ok


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    ("def f():\n    ", "\n", "block"),  # empty function body
    ("def f():", "\n", "block"),  # right after the colon
    ("class A:\n    ", "\n\n\nx = A()\n", "block"),  # empty class body
    ("def f():\n    x = 1\n    ", "\n    return x\n", "block"),  # blank line inside a body
    ("def f():\n    x = 1\n", "\n    return x\n", "block"),  # same, cursor at column 0
    ("import os\n\n", "\n", "block"),  # module level
    ("x = ", "\n", "line"),  # expression expected
    ("    return ", "\n", "line"),
    ("print(x", ")\n", "line"),  # text after the cursor
    ("result = call(\n    ", "\n)\n", "block"),  # a blank line: arguments may take lines
    ("values = [\n    ", "\n]\n", "block"),  # a blank line inside a list: items, one a line
    ("def f(x):\n", "    return x\n", "block"),  # the start of a line in front of code
    ("def f(x):\n    ", "return x\n", "block"),  # after the indentation, in front of code
    ("d = {'a':", "\n", "line"),  # a colon that opens no body
    ("print(x)", "\n", "line"),  # end of a finished line
])
def test_completion_scope(prefix, suffix, scope):
    assert PY.completion_scope(prefix, suffix) == scope
