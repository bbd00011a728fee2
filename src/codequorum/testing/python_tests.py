"""Turn visible Python tests (asserts, test functions, doctest examples, informal examples such as
`f(2) => 4` in docstrings) into named cases."""

from __future__ import annotations

import ast
import doctest
import re
from dataclasses import asdict, dataclass
from typing import Literal

_QUOTE_LINE = re.compile(r"^[ \t]*(\"{3}|'{3})[ \t]*$", re.MULTILINE)
_CODE_START = re.compile(r"^(def |async def |class |import |from |@)")
# `call  =>  expected` (also ==>, ➞, ->, ==), as docstrings often show examples without doctest
_EXAMPLE_LINE = re.compile(r"^\s*(?P<call>[A-Za-z_]\w*\(.*\))\s*(?:==>|=>|➞|->|==)\s*(?P<want>.+?)[\s.,;]*$")


@dataclass(frozen=True)
class TestCase:
    name: str
    kind: Literal["exec", "function", "doctest", "probe"]
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
        cases += _doctest_cases(docstrings) + _example_cases(docstrings)
    return TestSuite(setup=setup, cases=tuple(cases))


SHOWS_EXAMPLES_MAX_CHARS = 100_000  # parsing a larger document to order a warming is not worth its time


def shows_examples(text: str) -> bool:
    """Whether a document's docstrings hold examples that `suite_from_text` turns into cases
    (parsed once as it parses them, about 0.1 s at most; a document over
    `SHOWS_EXAMPLES_MAX_CHARS` counts as showing none)."""
    if len(text) > SHOWS_EXAMPLES_MAX_CHARS:
        return False
    if _doctest_cases(text):
        return True
    # parsed once, not as `parse_code` does: a document being edited often does not parse
    tree = _parsed(text)
    return tree is not None and bool(_examples_in(tree))


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


def _example_cases(code: str) -> list[TestCase]:
    """Informal examples in the docstrings of `code`, one per line: a call of a function the code
    defines, an arrow, and a literal result. Anything else on such a line is prose, not a test."""
    tree = parse_code(code)
    return [] if tree is None else _examples_in(tree)


def _examples_in(tree: ast.Module) -> list[TestCase]:
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    cases = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        docstring = _docstring_node(node)
        if docstring is None:
            continue
        for offset, line in enumerate(str(docstring.value).splitlines()):
            assertion = _example_assertion(line, defined)
            if assertion:
                cases.append(TestCase(f"example line {docstring.lineno + offset}", "exec", assertion))
    return cases


PARSE_ATTEMPTS = 8  # where the code may start after prose: each attempt parses the rest again


def parse_code(text: str) -> ast.Module | None:
    """The code in `text`: all of it, or from one of the first top-level statements after some
    prose (an instruction followed by the code it is about). At most `PARSE_ATTEMPTS` parses: a
    long file with a syntax error near its end would otherwise be parsed once per definition."""
    lines = text.splitlines()
    starts = [0] + [i for i, line in enumerate(lines) if _CODE_START.match(line)]
    for start in starts[:PARSE_ATTEMPTS]:
        tree = _parsed("\n".join(lines[start:]))
        if tree is not None:
            return tree
    return None


def _parsed(code: str) -> ast.Module | None:
    """`code` parsed; None when Python rejects it (a syntax error, a null byte, nesting too deep)."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _docstring_node(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Constant | None:
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.value
    return None


def _example_assertion(line: str, defined: set[str]) -> str | None:
    match = _EXAMPLE_LINE.match(line)
    if match is None or line.lstrip().startswith(">>>"):
        return None
    call, want = match["call"], match["want"]
    try:
        called = ast.parse(call, mode="eval").body
        if not (isinstance(called, ast.Call) and isinstance(called.func, ast.Name) and called.func.id in defined):
            return None
        for value in (want, *(ast.unparse(a) for a in called.args), *(ast.unparse(k.value) for k in called.keywords)):
            ast.literal_eval(value)  # `f(a) => b` with names is prose about a and b
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    return f"assert ({call}) == ({want})"


def imports_of(code: str) -> str:
    """The import statements of `code` (after any prose before it), one per line; empty when it
    does not parse."""
    tree = parse_code(code)
    if tree is None:
        return ""
    nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "".join(ast.unparse(node) + "\n" for node in nodes)
