"""Turn visible Python tests (asserts, test functions, doctest examples) into named cases."""

from __future__ import annotations

import ast
import doctest
import re
from dataclasses import asdict, dataclass
from typing import Literal

_QUOTE_LINE = re.compile(r"^[ \t]*(\"{3}|'{3})[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class TestCase:
    name: str
    kind: Literal["exec", "function", "doctest"]
    source: str
    want: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class TestSuite:
    setup: str  # imports and helpers the cases need, run after the candidate's code
    cases: tuple[TestCase, ...]


def suite_from_text(tests: str | None, docstrings: str | None = None) -> TestSuite:
    """Cases from a tests file (asserts and `test_*` functions) plus doctest examples."""
    setup, cases = _split_tests(tests) if tests and tests.strip() else ("", [])
    if docstrings:
        cases += _doctest_cases(docstrings)
    return TestSuite(setup=setup, cases=tuple(cases))


def _split_tests(text: str) -> tuple[str, list[TestCase]]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return "", [TestCase("tests", "exec", text)]
    setup: list[str] = []
    cases: list[TestCase] = []
    for node in tree.body:
        source = ast.get_source_segment(text, node) or ""
        if isinstance(node, ast.Assert):
            cases.append(TestCase(f"assert line {node.lineno}", "exec", source))
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            cases.append(TestCase(node.name, "function", _with_decorators(text, node)))
        elif not _is_main_guard(node):
            setup.append(_with_decorators(text, node) if hasattr(node, "decorator_list") else source)
    cases += _doctest_cases(text)
    return "\n".join(setup), cases


def _with_decorators(text: str, node: ast.AST) -> str:
    lines = text.splitlines()
    first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])  # type: ignore[attr-defined]
    return "\n".join(lines[first - 1 : node.end_lineno])  # type: ignore[attr-defined]


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def _doctest_cases(text: str) -> list[TestCase]:
    """Examples in docstrings. A closing quote line would read as expected output: blank it."""
    text = _QUOTE_LINE.sub("", text)
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError:  # malformed doctest: not evidence either way
        return []
    return [TestCase(f"doctest line {e.lineno + 1}", "doctest", e.source, e.want) for e in examples]


def imports_of(code: str) -> str:
    """The import statements of `code`, one per line (empty when it does not parse)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "".join(ast.unparse(node) + "\n" for node in nodes)
