"""Group candidates that are the same answer: by behaviour on the tests when they ran, else by
their values on probe calls when those ran (`testing/probes.py`), else by normalised code. The
size of a candidate's group is its share of the vote."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

from codequorum.ranking.normalize import normalized_code
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import ClusterBasis
from codequorum.vocabulary.request import Request, TaskKind

def cluster_basis(candidate: Candidate) -> ClusterBasis:
    """What the candidate is clustered on: "behaviour" when its tests ran cleanly, else "probes"
    when probe calls did, else "code"."""
    return candidate.evidence.cluster_basis


def cluster_key(candidate: Candidate, request: Request) -> Hashable:
    evidence = candidate.evidence
    basis = evidence.cluster_basis
    if basis == "behaviour" and evidence.test_run is not None:
        return ("behaviour", evidence.test_run.results)
    if basis == "probes" and evidence.probes is not None:
        return ("probes", evidence.probes)
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


def majority(candidates: Sequence[Candidate], request: Request) -> list[Candidate]:
    """The largest group (ties: the group found first); empty when no candidate has text."""
    groups = clusters(candidates, request)
    return groups[0] if groups else []


def agreement_score(candidates: Sequence[Candidate], request: Request, samples: int) -> float:
    """Share of the samples asked for that gave the majority answer: 1.0 when all agree.

    Samples that failed or came back empty count against agreement, not out of the total.
    """
    return len(majority(candidates, request)) / max(samples, len(candidates), 1)


def lead_with(group: Sequence[Candidate], ranked: Sequence[Candidate]) -> list[Candidate]:
    """The group's candidates in ranked order, then the others in ranked order."""
    chosen = {c.id for c in group}
    return [c for c in ranked if c.id in chosen] + [c for c in ranked if c.id not in chosen]
