from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.go import GoLanguage

GO = GoLanguage()

FUNCTION = "package main\n\nfunc add(a, b int) int {\n\t"
END = "\n}\n"
BROKEN_ELSEWHERE = "package main\n\nfunc broken( {\n}\n\nfunc add(a, b int) int {\n\t"


def test_is_a_language_plugin():
    assert isinstance(GO, Language)
    assert GO.extensions == (".go",) and "golang" in GO.markdown_tags


def test_good_insertion_is_ok():
    verdict = GO.insertion_verdict(FUNCTION, "sum := a + b\n\treturn sum", END)
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


@pytest.mark.parametrize("snippet", ["return a +", "sum := := a", "return add(a, b"])
def test_broken_insertion_is_not_ok(snippet):
    assert not GO.insertion_verdict(FUNCTION, snippet, END).ok


def test_already_broken_document_still_accepts_a_good_snippet():
    assert GO.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert GO.insertion_verdict(BROKEN_ELSEWHERE, "return a + b", END).ok
    assert not GO.insertion_verdict(BROKEN_ELSEWHERE, "return a +", END).ok


@pytest.mark.parametrize(("snippet", "balanced", "complete"), [
    ("s := `a{(`\n\treturn len(s) + a + b", True, True),
    ("if a > b {\n\t\treturn a\n\t}\n\treturn b", True, True),
    ("if a > b {\n\t\treturn a", False, False),
    ("s := \"abc", False, False),
])
def test_balanced_and_complete(snippet, balanced, complete):
    verdict = GO.insertion_verdict(FUNCTION, snippet, END)
    assert (verdict.balanced, verdict.complete) == (balanced, complete)


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (FUNCTION, END, "block"),
    ("package main\n\ntype Point struct {\n\t", END, "block"),
    ("package main\n\n", "\n", "block"),
    ("package main\n\nfunc main() {\n\tfmt.Println(", ")\n}\n", "line"),
    ("package main\n\nvar xs = []int{\n\t", "\n}\n", "block"),
])
def test_completion_scope(prefix, suffix, scope):
    assert GO.completion_scope(prefix, suffix) == scope
