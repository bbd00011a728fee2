"""The `tests` check: run visible tests (and docstring examples) against every candidate.

Python only for now. Candidates run in the bubblewrap sandbox, all of them in one sandbox start,
each in its own process with its own time limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from codequorum.core.runtime import Runtime
from codequorum.sandbox import SandboxLimits
from codequorum.testing.programs import program_under_test, visible_suite
from codequorum.testing.python_runner import run_suite
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import TestOutcome, TestRun
from codequorum.vocabulary.request import Request


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
        suite = visible_suite(request)
        if suite is None or not candidates:
            return
        programs = [program_under_test(request, c) for c in candidates]
        runs = await run_suite(programs, suite, self.limits, self.per_candidate_s)
        for candidate, run in zip(candidates, runs, strict=True):
            candidate.evidence.tests = TestOutcome(run.passed, run.failed)
            candidate.evidence.test_run = TestRun(tuple(run.results), tuple(c.name for c in suite.cases), run.error)

