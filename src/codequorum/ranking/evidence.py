"""A transparent score from the checks' evidence, used where no trained ranker applies."""

from __future__ import annotations

from collections.abc import Sequence

from codequorum.ranking.clusters import vote_shares
from codequorum.ranking.similarity import agreement, code_tokens
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request

SYNTAX_PENALTY = 10.0  # a candidate that breaks the file loses to any that does not
EMPTY_PENALTY = 20.0
TESTS_WEIGHT = 2.0
AGREEMENT_WEIGHT = 1.0
VOTE_WEIGHT = 1.0  # share of candidates giving the same answer (same behaviour or same code)
PRIOR_WEIGHT = 0.1  # member quality only breaks near-ties
DUAL_WEIGHT = 1.0  # CodeT dual agreement on generated tests, when a strategy ran them


def score_by_evidence(
    candidates: Sequence[Candidate], priors: dict[str, float], request: Request
) -> list[Candidate]:
    """Score every candidate (recording each term) and return them best first."""
    tokens = [code_tokens(c.text, request.language) for c in candidates]
    votes = vote_shares(candidates, request)
    for index, candidate in enumerate(candidates):
        terms = _terms(candidate, agreement(tokens, index), priors.get(candidate.member, 0.0))
        terms["vote"] = VOTE_WEIGHT * votes.get(candidate.id, 0.0)
        if candidate.evidence.dual_agreement is not None:
            terms["dual_agreement"] = DUAL_WEIGHT * candidate.evidence.dual_agreement
        candidate.scores.update(terms)
        candidate.score = sum(terms.values())
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def _terms(candidate: Candidate, agree: float, prior: float) -> dict[str, float]:
    terms = {"agreement": AGREEMENT_WEIGHT * agree, "prior": PRIOR_WEIGHT * prior}
    if not candidate.text.strip():
        terms["empty"] = -EMPTY_PENALTY
    if candidate.syntax_ok is False:
        terms["syntax"] = -SYNTAX_PENALTY
    outcome = candidate.tests
    if outcome is not None:
        total = outcome.passed + outcome.failed
        terms["tests"] = TESTS_WEIGHT * (outcome.passed / total if total else 0.0)
    return terms
