import pytest

from codequorum.plugins.languages.base import Language
from codequorum.plugins.languages.typescript import TsxLanguage, TypeScriptLanguage

TS = TypeScriptLanguage()
TSX = TsxLanguage()

FUNCTION = "function add(a: number, b: number): number {\n  "
END = "\n}\n"
BROKEN_ELSEWHERE = "const bad: = ;\n\n" + FUNCTION


def test_are_language_plugins():
    assert isinstance(TS, Language) and isinstance(TSX, Language)
    assert ".ts" in TS.extensions and ".tsx" not in TS.extensions
    assert TSX.extensions == (".tsx",)


def test_good_insertion_is_ok():
    verdict = TS.insertion_verdict(FUNCTION, "const sum: number = a + b;\n  return sum;", END)
    assert (verdict.ok, verdict.balanced, verdict.complete) == (True, True, True)


def test_generic_type_arguments_are_ok():
    assert TS.insertion_verdict("let xs: Array<", "number> = [];", "\n").ok


def test_broken_insertion_is_not_ok():
    verdict = TS.insertion_verdict(FUNCTION, "return a + ;", END)
    assert not verdict.ok and verdict.new_errors >= 1 and not verdict.complete


def test_already_broken_document_still_accepts_a_good_snippet():
    assert TS.syntax_issues(BROKEN_ELSEWHERE + END) > 0
    assert TS.insertion_verdict(BROKEN_ELSEWHERE, "return a + b;", END).ok
    assert not TS.insertion_verdict(BROKEN_ELSEWHERE, "return a + ;", END).ok


def test_balanced_and_complete():
    open_block = TS.insertion_verdict(FUNCTION, "for (const x of [a, b]) {\n    a += x;", END)
    assert not open_block.balanced and not open_block.complete
    string = TS.insertion_verdict(FUNCTION, "const s: string = '{[(';\n  return a;", END)
    assert string.balanced and string.complete


def test_tsx_parses_jsx_that_plain_typescript_rejects():
    prefix, suffix = "function App() {\n  return ", END
    snippet = "<div className=\"a\">{name}</div>;"
    assert TSX.insertion_verdict(prefix, snippet, suffix).ok
    assert not TS.insertion_verdict(prefix, snippet, suffix).ok
    assert not TSX.insertion_verdict(prefix, "<div className=\"a\">{name};", suffix).ok


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    (FUNCTION, END, "block"),
    ("interface Point {\n  ", END, "block"),
    ("class A {\n  private x = 1;\n  ", END, "block"),
    ("const x: number = ", ";\n", "line"),
    ("type T = {\n  ", "\n};\n", "block"),  # an empty line in an object type
    ("add(1, ", ");\n", "line"),
])
def test_completion_scope(prefix, suffix, scope):
    assert TS.completion_scope(prefix, suffix) == scope
