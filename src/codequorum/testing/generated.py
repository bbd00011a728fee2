"""CodeT-style tests: ask a member to write assert statements for the task, keep those that
parse, and run every candidate against them in the sandbox."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.ranking.dual_agreement import dual_agreement
from codequorum.sandbox import SandboxLimits
from codequorum.testing.programs import program_under_test
from codequorum.testing.python_runner import run_suite
from codequorum.testing.python_tests import TestCase, TestSuite
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request, TaskKind

_ASSERT = "assert "
TEST_INSTRUCTION = (
    "Write {count} different assert statements that check a correct implementation of the code "
    "below, one per line, covering edge cases. Call the function; do not define it again. "
    "Reply with the asserts only, in one python code block."
)


async def score_with_generated_tests(
    ctx: StrategyContext, candidates: Sequence[Candidate], writer: Member, limits: SandboxLimits,
    count: int = 6,
) -> None:
    """Record `generated_tests` (pass counts) and `dual_agreement` on each candidate."""
    suite = await generated_suite(ctx, writer, count)
    ctx.trace.note(f"{writer.name} wrote {len(suite.cases)} usable test(s)")
    if not suite.cases or not candidates:
        return
    programs = [program_under_test(ctx.request, c) for c in candidates]
    runs = await run_suite(programs, suite, limits, per_candidate_s=limits.timeout_s)
    shares = dual_agreement([run.results for run in runs])
    for candidate, run, share in zip(candidates, runs, shares, strict=True):
        candidate.checks["generated_tests"] = {"passed": run.passed, "failed": run.failed}
        candidate.scores["dual_agreement"] = share


async def generated_suite(ctx: StrategyContext, writer: Member, count: int) -> TestSuite:
    """Tests written by `writer`. A FIM member simply continues the code after a line that
    starts `assert `: small models follow that far better than an instruction."""
    task = _task_text(ctx.request)
    if writer.fim is not None:
        request = Request(TaskKind.COMPLETE, language="python", prefix=f"{task}\n\n\n# Tests\n{_ASSERT}",
                          max_tokens=32 * count, budget=ctx.request.budget, created_at=ctx.request.created_at)
    else:
        request = Request(TaskKind.GENERATE, language="python", instruction=TEST_INSTRUCTION.format(count=count),
                          prefix=task, max_tokens=32 * count, budget=ctx.request.budget,
                          created_at=ctx.request.created_at)
    helper = dataclasses.replace(ctx, request=request, pool=[], checks=[], options={})  # one plain prompt
    answers = await helper.sample(writer)
    text = answers[0].text if answers else ""
    if request.kind is TaskKind.COMPLETE:
        text = _ASSERT + text
    return TestSuite(setup="", cases=tuple(asserts_in(text)[:count]))


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

