"""CodeT's dual agreement: candidates that pass the same generated tests form a consensus
set, scored |candidates in the set| × |tests they pass|. A wrong test is passed by few
candidates and a wrong candidate agrees with few others, so both errors are damped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from codequorum.vocabulary.candidate import Candidate


def dual_agreement(results: Sequence[Sequence[bool]]) -> list[float]:
    """Per candidate (rows: candidates, columns: generated tests), normalised so the best is 1."""
    groups: dict[tuple[bool, ...], list[int]] = defaultdict(list)
    for index, row in enumerate(results):
        groups[tuple(row)].append(index)
    raw = [0.0] * len(results)
    for passed, members in groups.items():
        for index in members:
            raw[index] = float(len(members) * sum(passed))
    best = max(raw, default=0.0)
    return [value / best if best else 0.0 for value in raw]


def strongest_cluster(groups: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """Of clusters of candidates that give the same answer, the one with the most support:
    size × (1 + generated asserts its first candidate passes). The one added keeps the largest
    cluster ahead when no assert passes or none ran. Ties: the first cluster given."""
    best: list[Candidate] = []
    best_support = 0
    for group in groups:
        support = len(group) * (1 + _asserts_passed(group[0])) if group else 0
        if support > best_support:
            best, best_support = list(group), support
    return best


def _asserts_passed(candidate: Candidate) -> int:
    generated = candidate.evidence.generated_tests
    return generated.passed if generated else 0
