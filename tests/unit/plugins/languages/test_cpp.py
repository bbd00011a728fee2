from dataclasses import astuple

import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.cpp import CppLanguage

CPP = CppLanguage()

FUNCTION = "#include <cstdio>\n\nint add(int a, int b) {\n    "
END = "\n}\n"
BROKEN_ELSEWHERE = "int broken( {\n}\n\nint add(int a, int b) {\n    "


def test_is_a_language_plugin_for_cpp_and_c():
    assert isinstance(CPP, Language)
    assert {".cpp", ".cc", ".hpp", ".c", ".h"} <= set(CPP.extensions)


def test_good_insertion_is_ok():
    verdict = CPP.insertion_verdict(FUNCTION, "int sum = a + b;\n    return sum;", END)
    assert astuple(verdict) == (True, 0, True, True)  # ok, new_errors, balanced, complete


@pytest.mark.parametrize("snippet", ["return a + ;", "int = 3;", "return std::max(a, b;"])
def test_broken_insertion_is_not_ok(snippet):
    assert not CPP.insertion_verdict(FUNCTION, snippet, END).ok


def test_already_broken_document_still_accepts_a_good_snippet():
    assert CPP.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert CPP.insertion_verdict(BROKEN_ELSEWHERE, "return a + b;", END).ok
    assert not CPP.insertion_verdict(BROKEN_ELSEWHERE, "return a + ;", END).ok


def test_c_code_parses():
    main = "#include <stdio.h>\n\nint main(void) {\n    printf("
    assert CPP.insertion_verdict(main, "\"%d\\n\", 42);", END).ok


@pytest.mark.parametrize(("snippet", "balanced", "complete"), [
    ("const char *s = \"{(\"; // )\n    return a + b;", True, True),
    ("while (a) {\n        b++;\n    }\n    return b;", True, True),
    ("while (a) {\n        b++;", False, False),
    ("return a + b; /* unfinished", False, False),
])
def test_balanced_and_complete(snippet, balanced, complete):
    verdict = CPP.insertion_verdict(FUNCTION, snippet, END)
    assert (verdict.balanced, verdict.complete) == (balanced, complete)


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (FUNCTION, END, "block"),
    ("struct Point {\n    ", "\n};\n", "block"),
    ("namespace geo {\n", "\n}\n", "block"),
    ("int main() {\n    printf(", ");\n}\n", "line"),
    ("int xs[] = {\n    ", "\n};\n", "block"),
])
def test_completion_scope(prefix, suffix, scope):
    assert CPP.completion_scope(prefix, suffix) == scope
