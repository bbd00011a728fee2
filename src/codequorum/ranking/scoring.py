"""The final ordering: every available scorer scores the candidates, and a scorer ensemble
rule (mean / worst / uncertainty-weighted) combines them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from codequorum.config import RankingConfig
from codequorum.ranking.codebertscore import CodeBertScorer
from codequorum.ranking.ensemble import combine
from codequorum.ranking.evidence import score_by_evidence
from codequorum.ranking.features import feature_matrix
from codequorum.ranking.listwise import ListwiseRanker, load_ranker
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request


@lru_cache(maxsize=8)
def listwise_ranker(weights: Path | None) -> ListwiseRanker | None:
    """The ranker with these weights (None: the shipped ones); None when they cannot be read."""
    return load_ranker(weights)


@lru_cache(maxsize=4)
def codebert_scorer(encoder: Path | None) -> CodeBertScorer:
    return CodeBertScorer(encoder)


def rank_candidates(
    candidates: Sequence[Candidate], request: Request, priors: dict[str, float],
    config: RankingConfig, note: Callable[[str], None] = lambda _event: None,
) -> list[Candidate]:
    """Candidates best first; each keeps its per-scorer scores in `candidate.scores`."""
    if not candidates:
        return []
    score_by_evidence(candidates, priors, request)
    scorers = {"evidence": [c.score for c in candidates]}
    ranker = listwise_ranker(config.listwise_weights) if config.listwise else None
    if config.listwise and ranker is None and config.listwise_weights is not None:
        note(f"listwise weights {config.listwise_weights} could not be read (or were trained on "
             "other features): ranking without them")
    if ranker is not None:
        scorers["listwise"] = ranker.scores(feature_matrix(candidates, request, priors)).tolist()
    if config.codebertscore and len(candidates) > 1:
        scorer = codebert_scorer(config.codebertscore_encoder)
        scorers["codebertscore"] = scorer.agreement([c.text for c in candidates])
        note(f"CodeBERTScore agreement with encoder {scorer.encoder_name}")
    combined = combine(scorers, config.rule, config.uncertainty_k)
    for index, candidate in enumerate(candidates):
        for name, scores in scorers.items():
            candidate.scores[f"scorer.{name}"] = float(scores[index])
        candidate.score = float(combined[index])
    # ties (e.g. identical ranks) fall back to the evidence score, then the member prior
    return sorted(candidates, key=lambda c: (c.score, c.scores["scorer.evidence"]), reverse=True)
