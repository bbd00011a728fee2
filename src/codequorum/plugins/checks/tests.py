"""The `tests` check: run visible tests (and docstring examples) against every candidate.

Python only for now. Candidates run in the bubblewrap sandbox, all of them in one sandbox start,
each in its own process with its own time limit.

A completion's cases are the examples of the function around its cursor (`testing/programs.py`),
run in the document under a shorter limit, since an editor waits, for the snippets that leave
that function whole (`testing/enclosing.py`). Where the document does not
load in the sandbox (an import of the user's project, say), that is not the snippet's fault: the
candidate gets no test evidence rather than a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from codequorum.core.runtime import Runtime
from codequorum.sandbox import SandboxLimits
from codequorum.testing.enclosing import finishes_definition
from codequorum.testing.programs import program_under_test, visible_suite
from codequorum.testing.python_runner import LOAD_ERROR, run_suite
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import TestOutcome, TestRun
from codequorum.vocabulary.request import Request, TaskKind


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
        self.per_snippet_s = min(config.timeout_s, config.completion_timeout_s)

    async def run(self, request: Request, candidates: Sequence[Candidate]) -> None:
        suite = visible_suite(request)
        if suite is None:
            return
        completing = request.kind is TaskKind.COMPLETE
        if completing:  # an empty or broken snippet is out anyway, and one mid-function would fail
            candidates = [c for c in candidates if c.text.strip() and c.syntax_ok is not False
                          and finishes_definition(request.prefix, c.text, request.suffix)]
        if not candidates:
            return
        programs = [program_under_test(request, c) for c in candidates]
        runs = await run_suite(programs, suite, self.limits,
                               self.per_snippet_s if completing else self.per_candidate_s)
        for candidate, run in zip(candidates, runs, strict=True):
            if completing and (run.error or "").startswith(LOAD_ERROR):
                continue
            candidate.evidence.tests = TestOutcome(run.passed, run.failed)
            candidate.evidence.test_run = TestRun(tuple(run.results), tuple(c.name for c in suite.cases), run.error)

