from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.rust import RustLanguage

RS = RustLanguage()

FUNCTION = "fn add(a: i32, b: i32) -> i32 {\n    "
END = "\n}\n"
BROKEN_ELSEWHERE = "fn broken( {\n}\n\n" + FUNCTION


def test_is_a_language_plugin():
    assert isinstance(RS, Language)
    assert RS.extensions == (".rs",) and "rs" in RS.markdown_tags


def test_good_insertion_is_ok():
    verdict = RS.insertion_verdict(FUNCTION, "let sum = a + b;\n    sum", END)
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


@pytest.mark.parametrize("snippet", ["a +", "let = 1;", "let v = vec![a, b;"])
def test_broken_insertion_is_not_ok(snippet):
    assert not RS.insertion_verdict(FUNCTION, snippet, END).ok


def test_already_broken_document_still_accepts_a_good_snippet():
    assert RS.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert RS.insertion_verdict(BROKEN_ELSEWHERE, "a + b", END).ok
    assert not RS.insertion_verdict(BROKEN_ELSEWHERE, "a +", END).ok


@pytest.mark.parametrize(("snippet", "balanced", "complete"), [
    ("let s: &'static str = \"{(\";\n    a + b", True, True),  # a lifetime is no quote
    ("let c = '(';\n    a + b", True, True),
    ("match a {\n        0 => b,\n        _ => a,\n    }", True, True),
    ("match a {\n        0 => b,", False, False),
])
def test_balanced_and_complete(snippet, balanced, complete):
    verdict = RS.insertion_verdict(FUNCTION, snippet, END)
    assert (verdict.balanced, verdict.complete) == (balanced, complete)


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (FUNCTION, END, "block"),
    ("struct Point {\n    ", END, "block"),
    ("impl Point {\n    ", END, "block"),
    ("fn main() {\n    let v = vec![", "];\n}\n", "line"),
    ("fn main() {\n    let p = Point {\n        ", "\n    };\n}\n", "block"),  # an empty line in a struct literal
])
def test_completion_scope(prefix, suffix, scope):
    assert RS.completion_scope(prefix, suffix) == scope
