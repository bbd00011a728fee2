from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.javascript import JavaScriptLanguage

JS = JavaScriptLanguage()

FUNCTION = "function add(a, b) {\n  "
END = "\n}\n"
BROKEN_ELSEWHERE = "function broken() {\n  const x = foo(;\n}\n\n" + FUNCTION


def test_is_a_language_plugin():
    assert isinstance(JS, Language)
    assert {".js", ".jsx", ".mjs"} <= set(JS.extensions) and JS.comment_prefix == "//"


def test_good_insertion_is_ok_balanced_and_complete():
    verdict = JS.insertion_verdict(FUNCTION, "const sum = a + b;\n  return sum;", END)
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


@pytest.mark.parametrize("snippet", ["return a +;", "const = 1;", "return [a, b;"])
def test_broken_insertion_is_not_ok(snippet):
    verdict = JS.insertion_verdict(FUNCTION, snippet, END)
    assert not verdict.ok and verdict.new_errors >= 1


def test_already_broken_document_still_accepts_a_good_snippet():
    assert JS.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert JS.insertion_verdict(BROKEN_ELSEWHERE, "return a + b;", END).ok
    assert not JS.insertion_verdict(BROKEN_ELSEWHERE, "return a +;", END).ok


def test_closing_the_function_at_end_of_file_is_ok():
    verdict = JS.insertion_verdict(FUNCTION, "return a + b;\n}", "")
    assert verdict.ok and verdict.balanced and verdict.complete


@pytest.mark.parametrize(("snippet", "balanced"), [
    ("const s = 'a{(';", True),
    ("const s = `x ${a}`;", True),
    ("return a + b; // }", True),
    ("const r = /[(]/;", True),
    ("if (a) {\n    return b;", False),
    ("const s = `x ${a}", False),
    ("const s = \"abc;", False),
    ("return a + b; /* note", False),
    ("return (a]", False),
])
def test_balanced_ignores_brackets_in_strings_comments_and_regexes(snippet, balanced):
    assert JS.insertion_verdict(FUNCTION, snippet, END).balanced is balanced


@pytest.mark.parametrize(("snippet", "complete"), [
    ("return a + b;", True),
    ("if (a) {\n    return b;\n  }", True),
    ("if (a) {\n    return b;", False),
    ("const o = {\n    a: 1,", False),
])
def test_complete(snippet, complete):
    assert JS.insertion_verdict(FUNCTION, snippet, END).complete is complete


def test_call_arguments_completed_on_the_line_are_ok():
    verdict = JS.insertion_verdict("console.log(", "a, b", ");\n")
    assert verdict.ok and verdict.balanced and verdict.complete


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (FUNCTION, END, "block"),
    ("function f() {", END, "block"),
    ("function f() {\n  ", "", "block"),  # end of file, brace not typed yet
    ("class A {\n  ", END, "block"),
    ("switch (x) {\n  case 1:\n    ", END, "block"),
    ("const o = {\n  ", "\n};\n", "block"),  # an empty line in an object literal
    ("foo(\n  ", "\n);\n", "block"),  # an empty line in an argument list
    ("const x = ", "\n", "line"),
    ("foo(", ");\n", "line"),
])
def test_completion_scope(prefix, suffix, scope):
    assert JS.completion_scope(prefix, suffix) == scope
