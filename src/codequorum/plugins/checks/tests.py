"""The `tests` check: run visible tests (and docstring examples) against every candidate.

Python only for now. Candidates run in the bubblewrap sandbox, all of them in one sandbox start,
each in its own process with its own time limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from codequorum.core.candidate import Candidate, TestOutcome
from codequorum.core.request import Request, TaskKind
from codequorum.runtime import Runtime
from codequorum.sandbox import SandboxLimits
from codequorum.testing.python_runner import run_suite
from codequorum.testing.python_tests import TestSuite, imports_of, suite_from_text

class TestsCheck:
    name: ClassVar[str] = "tests"

    def __init__(self, runtime: Runtime) -> None:
        config = runtime.settings.sandbox
        self.limits = SandboxLimits(
            timeout_s=config.timeout_s,
            memory_mb=config.memory_mb,
            allow_unsandboxed=config.allow_unsandboxed,
        )
        self.per_candidate_s = config.timeout_s

    async def run(self, request: Request, candidates: Sequence[Candidate]) -> None:
        suite = self._suite(request)
        if suite is None or not candidates:
            return
        programs = [_program(request, c) for c in candidates]
        runs = await run_suite(programs, suite, self.limits, self.per_candidate_s)
        for candidate, run in zip(candidates, runs, strict=True):
            candidate.checks["tests"] = TestOutcome(run.passed, run.failed)
            candidate.checks["tests_detail"] = {
                "cases": [case.name for case in suite.cases],
                "results": list(run.results),
                "error": run.error,
            }

    def _suite(self, request: Request) -> TestSuite | None:
        if request.language not in (None, "python"):
            return None
        docstrings = _visible_code(request) if request.kind is TaskKind.GENERATE else None
        suite = suite_from_text(request.tests, docstrings)
        return suite if suite.cases else None


def _program(request: Request, candidate: Candidate) -> str:
    """The whole code under test: the candidate in its document (or alone when generated).

    A generated answer often drops the imports that the instruction's own code had.
    """
    if request.kind is TaskKind.COMPLETE:
        return request.prefix + candidate.text + request.suffix
    return imports_of(_visible_code(request)) + candidate.text


def _visible_code(request: Request) -> str:
    """What the user showed the model: the instruction and any code given with it."""
    return f"{request.instruction or ''}\n{request.prefix}"

