"""Group candidates that are the same answer: by behaviour on the tests when they ran,
else by normalised code. The size of a candidate's group is its share of the vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

from codequorum.core.candidate import Candidate
from codequorum.core.request import Request, TaskKind
from codequorum.ranking.normalize import normalized_code


def cluster_key(candidate: Candidate, request: Request) -> Hashable:
    detail = candidate.checks.get("tests_detail")
    if detail and not detail.get("error"):
        return ("behaviour", tuple(detail.get("behaviour") or detail["results"]))
    text = candidate.text
    if request.kind is TaskKind.COMPLETE:
        text = request.prefix + text + request.suffix  # a fragment only parses in place
    return ("code", normalized_code(text, request.language))


def clusters(candidates: Sequence[Candidate], request: Request) -> list[list[Candidate]]:
    """Groups, largest first (ties: the group found first)."""
    groups: dict[Hashable, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.text.strip():
            groups[cluster_key(candidate, request)].append(candidate)
    return sorted(groups.values(), key=len, reverse=True)


def vote_shares(candidates: Sequence[Candidate], request: Request) -> dict[int, float]:
    """Candidate id → share of the non-empty candidates that gave the same answer."""
    groups = clusters(candidates, request)
    total = sum(len(group) for group in groups) or 1
    return {c.id: len(group) / total for group in groups for c in group}
