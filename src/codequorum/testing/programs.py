"""The whole program a candidate's tests run against."""

from __future__ import annotations

from codequorum.testing.enclosing import definition_around
from codequorum.testing.python_tests import TestSuite, imports_of, suite_from_text
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request, TaskKind


def program_under_test(request: Request, candidate: Candidate) -> str:
    """The candidate in its document (or alone when generated).

    A generated answer often drops the imports that the instruction's own code had.
    """
    if request.kind is TaskKind.COMPLETE:
        return request.prefix + candidate.text + request.suffix
    return imports_of(visible_code(request)) + candidate.text


def visible_code(request: Request) -> str:
    """What the user showed the model: the instruction and any code given with it."""
    return f"{request.instruction or ''}\n{request.prefix}"


def visible_suite(request: Request) -> TestSuite | None:
    """The request's visible tests and docstring examples as cases; None when it has none.

    A completion's examples are those of the definition around its cursor
    (`testing/enclosing.py`)."""
    if request.language not in (None, "python"):
        return None
    docstrings = None
    if request.kind is TaskKind.GENERATE:
        docstrings = visible_code(request)
    elif request.kind is TaskKind.COMPLETE:
        docstrings = definition_around(request.prefix, request.suffix)
    suite = suite_from_text(request.tests, docstrings)
    return suite if suite.cases else None
