"""Per-candidate features for the listwise ranker, computed over one request's candidates."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

from codequorum.ranking.clusters import vote_shares
from codequorum.ranking.similarity import agreement, code_tokens
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request

FEATURES = (
    "syntax_ok", "syntax_unknown", "visible_pass_rate", "has_visible_tests", "vote_share",
    "agreement", "mean_logprob", "log_tokens", "relative_length", "member_prior", "empty",
)


def feature_matrix(
    candidates: Sequence[Candidate], request: Request, priors: dict[str, float]
) -> np.ndarray:
    """One row per candidate, columns in FEATURES order, all roughly in [0, 1] or [-1, 1]."""
    tokens = [code_tokens(c.text, request.language) for c in candidates]
    votes = vote_shares(candidates, request)
    lengths = [max(1, len(t)) for t in tokens]
    median = statistics.median(lengths) if lengths else 1
    rows = [
        _row(c, votes.get(c.id, 0.0), agreement(tokens, i), lengths[i] / median,
             priors.get(c.member, 0.5))
        for i, c in enumerate(candidates)
    ]
    return np.asarray(rows, dtype=np.float32).reshape(len(candidates), len(FEATURES))


def _row(candidate: Candidate, vote: float, agree: float, relative_length: float,
         prior: float) -> list[float]:
    outcome = candidate.tests
    total = outcome.passed + outcome.failed if outcome else 0
    logprob = candidate.mean_logprob if candidate.mean_logprob is not None else -1.0
    return [
        float(candidate.syntax_ok is True),
        float(candidate.syntax_ok is None),
        outcome.passed / total if outcome and total else 0.0,
        float(total > 0),
        vote,
        agree,
        max(-5.0, min(0.0, logprob)) / 5.0,
        math.log1p(candidate.tokens) / 7.0,
        min(relative_length, 3.0) / 3.0,
        prior,
        float(not candidate.text.strip()),
    ]
