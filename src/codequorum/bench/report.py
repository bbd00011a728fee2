"""Per-member figures from a collection: pass@1, pass@k, the oracle, cost and compute time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from math import comb

from codequorum.vocabulary.records import Record


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True)
class MemberFigures:
    member: str
    setting: str
    problems: int
    pass_at_1: float
    compute_seconds_per_problem: float
    cost_per_problem: float
    errors: int


def member_figures(records: Iterable[Record]) -> list[MemberFigures]:
    cells: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        cells[(record.member, record.setting)][record.problem].append(record)
    return [_figures(member, setting, by_problem) for (member, setting), by_problem in sorted(cells.items())]


def _figures(member: str, setting: str, by_problem: dict[str, list[Record]]) -> MemberFigures:
    problems = len(by_problem)
    scores = [pass_at_k(len(rs), sum(bool(r.passed) for r in rs), 1) for rs in by_problem.values()]
    seconds = sum(r.compute_seconds for rs in by_problem.values() for r in rs)
    cost = sum(r.cost for rs in by_problem.values() for r in rs)
    errors = sum(1 for rs in by_problem.values() for r in rs if r.error)
    return MemberFigures(member, setting, problems, sum(scores) / problems, seconds / problems,
                         cost / problems, errors)


def oracle(records: Iterable[Record]) -> float:
    """Share of problems where any collected candidate passes: the ceiling for selection."""
    solved: dict[str, bool] = defaultdict(bool)
    for record in records:
        solved[record.problem] |= bool(record.passed)
    return sum(solved.values()) / len(solved) if solved else 0.0
