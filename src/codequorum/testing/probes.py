"""Behaviour on probe calls: candidates for a task without tests are still compared by what
they do, not by how their code reads.

A member writes assert statements for the task (`generated_suite`). Only their calls of the
functions at stake are kept, not the expected values, which a small model often gets wrong:
AlphaCode (Li et al. 2022) clusters samples by their outputs on generated inputs in the same
way. Every candidate runs the calls in the sandbox; the values it returns (or the exceptions it
raises) are recorded as `evidence.probes`, and candidates with the same values are the same
answer to the clustering (`ranking/clusters.py`). The asserts themselves run too: how many a
candidate passes (`evidence.generated_tests`) weighs its cluster as in CodeT's dual agreement
(Chen et al. 2022), where an assert with a wrong expected value is passed by few candidates.
The writer is asked, and the probes run as candidates come, by `core/writers.py` (`Prober`).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from codequorum.sandbox import SandboxLimits
from codequorum.testing.programs import program_under_test, visible_code
from codequorum.testing.python_runner import CandidateRun, run_suite
from codequorum.testing.python_tests import TestCase, TestSuite, parse_code
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import TestOutcome
from codequorum.vocabulary.request import Request, TaskKind


def probes_apply(request: Request) -> bool:
    """Python generations: a completion's latency has no room for a test writer's call."""
    return request.kind is TaskKind.GENERATE and request.language in (None, "python")


@dataclass(frozen=True)
class Probes:
    calls: tuple[str, ...]  # expressions whose values are compared
    asserts: tuple[TestCase, ...]  # the writer's asserts they came from, expected values and all

    def suite(self) -> TestSuite:
        cases = tuple(TestCase(f"probe {i}", "probe", call) for i, call in enumerate(self.calls, 1))
        return TestSuite(setup="", cases=cases + self.asserts)


def probes_from_suite(suite: TestSuite, request: Request, candidates: Sequence[Candidate], count: int) -> Probes:
    """Up to `count` distinct calls, from the writer's asserts, of the functions the task or the
    candidates define, and the asserts that hold them."""
    names = defined_functions(visible_code(request), *(c.text for c in candidates))
    calls: list[str] = []
    asserts: list[TestCase] = []
    for case in suite.cases:
        found = [call for call in calls_in(case.source, names) if call not in calls]
        calls += found
        asserts += [case] if found else []
    return Probes(tuple(calls[:count]), tuple(asserts))


async def record_probes(request: Request, candidates: Sequence[Candidate], probes: Probes,
                        limits: SandboxLimits) -> None:
    """`evidence.probes`: each candidate's values on the calls, None where they tell nothing;
    `evidence.generated_tests`: the asserts it passes and fails."""
    if not probes.calls or not candidates:
        return
    programs = [program_under_test(request, c) for c in candidates]
    runs = await run_suite(programs, probes.suite(), limits, per_candidate_s=limits.timeout_s)
    calls = len(probes.calls)
    for candidate, run in zip(candidates, runs, strict=True):
        evidence = candidate.evidence
        evidence.probed = True
        evidence.probes = tuple(run.values[:calls]) if _evidence(run, calls) else None
        passed = sum(run.results[calls:])
        evidence.generated_tests = TestOutcome(passed, len(probes.asserts) - passed)


def _evidence(run: CandidateRun, calls: int) -> bool:
    """A run that loaded, finished and returned on some call. Raising on every call says more
    about the calls (a wrong arity, say) than about the candidate."""
    return run.error is None and any(run.results[:calls])


def calls_in(source: str, names: set[str]) -> list[str]:
    """The outermost calls of `names` in one statement, as source text."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            found.append(ast.unparse(node))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def defined_functions(*sources: str) -> set[str]:
    """Top-level function names defined in the code of any of `sources`."""
    names: set[str] = set()
    for source in sources:
        tree = parse_code(source)  # an instruction may come before its code
        if tree is not None:
            names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return names
