"""CodeT-style tests: what a member is asked to write assert statements for the task, the ones
of its answer that parse, and every candidate run against them in the sandbox. The member is
asked through the strategy context, by `core/writers.py`."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from codequorum.ranking.dual_agreement import dual_agreement
from codequorum.sandbox import SandboxLimits
from codequorum.testing.programs import program_under_test
from codequorum.testing.python_runner import run_suite
from codequorum.testing.python_tests import TestCase, TestSuite
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import TestOutcome
from codequorum.vocabulary.request import Request, TaskKind

_ASSERT = "assert "
TEST_INSTRUCTION = (
    "Write {count} different assert statements that check a correct implementation of the code "
    "below, one per line, covering edge cases. Call the function; do not define it again. "
    "Reply with the asserts only, in one python code block."
)


def writer_request(request: Request, fim: bool, count: int) -> Request:
    """What a test writer is asked. A FIM member simply continues the code after a line that
    starts `assert `: small models follow that far better than an instruction."""
    task = _task_text(request)
    if fim:
        # "block": the writer goes on past the first assert's line, one assert a line
        return Request(TaskKind.COMPLETE, language="python", prefix=f"{task}\n\n\n# Tests\n{_ASSERT}",
                       max_tokens=32 * count, scope="block", budget=request.budget,
                       created_at=request.created_at)
    return Request(TaskKind.GENERATE, language="python", instruction=TEST_INSTRUCTION.format(count=count),
                   prefix=task, max_tokens=32 * count, budget=request.budget, created_at=request.created_at)


def suite_from_answer(asked: Request, answer: str, count: int) -> TestSuite:
    """The first `count` usable asserts of the writer's answer to `asked` (`writer_request`)."""
    text = _ASSERT + answer if asked.kind is TaskKind.COMPLETE else answer
    return TestSuite(setup="", cases=tuple(asserts_in(text)[:count]))


async def run_generated_tests(request: Request, candidates: Sequence[Candidate], suite: TestSuite,
                              limits: SandboxLimits) -> None:
    """Record `generated_tests` (pass counts) and `dual_agreement` on each candidate."""
    if not suite.cases or not candidates:
        return
    programs = [program_under_test(request, c) for c in candidates]
    runs = await run_suite(programs, suite, limits, per_candidate_s=limits.timeout_s)
    shares = dual_agreement([run.results for run in runs])
    for candidate, run, share in zip(candidates, runs, shares, strict=True):
        candidate.evidence.generated_tests = TestOutcome(run.passed, run.failed)
        candidate.evidence.dual_agreement = share


def asserts_in(text: str) -> list[TestCase]:
    """Each top-level assert that parses on its own line(s) becomes a test case."""
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("assert "):
            continue
        try:
            ast.parse(stripped)
        except SyntaxError:
            continue
        cases.append(TestCase(f"generated line {number}", "exec", stripped))
    return cases


def _task_text(request: Request) -> str:
    return "\n".join(part for part in (request.instruction, request.prefix) if part)

