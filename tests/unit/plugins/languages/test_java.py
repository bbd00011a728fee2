from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.java import JavaLanguage

JAVA = JavaLanguage()

METHOD = "class Calc {\n    int add(int a, int b) {\n        "
END = "\n    }\n}\n"
BROKEN_ELSEWHERE = METHOD.replace("class Calc {\n", "class Calc {\n    void broken( {\n    }\n\n")


def test_is_a_language_plugin():
    assert isinstance(JAVA, Language)
    assert JAVA.extensions == (".java",) and JAVA.comment_prefix == "//"


def test_good_insertion_is_ok():
    verdict = JAVA.insertion_verdict(METHOD, "int sum = a + b;\n        return sum;", END)
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


@pytest.mark.parametrize("snippet", ["return a + ;", "int = 3;", "return Math.max(a, b;"])
def test_broken_insertion_is_not_ok(snippet):
    assert not JAVA.insertion_verdict(METHOD, snippet, END).ok


def test_already_broken_document_still_accepts_a_good_snippet():
    assert JAVA.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert JAVA.insertion_verdict(BROKEN_ELSEWHERE, "return a + b;", END).ok
    assert not JAVA.insertion_verdict(BROKEN_ELSEWHERE, "return a + ;", END).ok


@pytest.mark.parametrize(("snippet", "balanced", "complete"), [
    ("String s = \"{(\"; // )\n        return a + b;", True, True),
    ("for (int i = 0; i < a; i++) {\n            b++;\n        }", True, True),
    ("for (int i = 0; i < a; i++) {\n            b++;", False, False),
    ("String s = \"abc;", False, False),
])
def test_balanced_and_complete(snippet, balanced, complete):
    verdict = JAVA.insertion_verdict(METHOD, snippet, END)
    assert (verdict.balanced, verdict.complete) == (balanced, complete)


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (METHOD, END, "block"),
    ("class Calc {\n    ", "\n}\n", "block"),
    ("class Calc {\n    void f() {\n        g(", ");\n    }\n}\n", "line"),
    ("class Calc {\n    int[] xs = {\n        ", "\n    };\n}\n", "block"),  # an empty line in an array initializer: items, one a line
])
def test_completion_scope(prefix, suffix, scope):
    assert JAVA.completion_scope(prefix, suffix) == scope
