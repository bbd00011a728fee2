"""Run candidates against a problem's hidden tests, in the sandbox."""

from __future__ import annotations

from collections.abc import Sequence

from codequorum.bench.problems import Problem
from codequorum.sandbox import SandboxLimits
from codequorum.testing.python_runner import run_suite
from codequorum.testing.python_tests import TestCase, TestSuite, imports_of


def program_for(problem: Problem, candidate: str) -> str:
    """The candidate as a module: the prompt's imports, or the prompt itself when the
    candidate is only a body (it does not define the entry point)."""
    if f"def {problem.entry_point}" not in candidate:
        return problem.prompt + candidate
    return imports_of(problem.prompt) + candidate


async def hidden_results(
    problem: Problem, candidates: Sequence[str], limits: SandboxLimits, per_candidate_s: float = 10.0
) -> list[bool]:
    suite = TestSuite(
        setup=problem.tests,
        cases=(TestCase("hidden tests", "exec", f"check({problem.entry_point})"),),
    )
    programs = [program_for(problem, text) for text in candidates]
    runs = await run_suite(programs, suite, limits, per_candidate_s)
    return [run.passed == 1 for run in runs]

