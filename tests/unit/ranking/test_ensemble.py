import numpy as np
import pytest

from codequorum.config import RankingConfig
from codequorum.ranking.ensemble import combine, normalized_ranks
from codequorum.ranking.scoring import rank_candidates
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request, TaskKind


def test_ranks_are_scaled_and_ties_shared():
    assert normalized_ranks([3.0, 1.0, 2.0]).tolist() == [1.0, 0.0, 0.5]
    assert normalized_ranks([1.0, 1.0, 0.0]).tolist() == [0.75, 0.75, 0.0]


def test_rules():
    scores = {"a": [1.0, 0.0, 0.5], "b": [0.0, 1.0, 0.5]}
    assert combine(scores, "mean").tolist() == [0.5, 0.5, 0.5]
    assert combine(scores, "worst").tolist() == [0.0, 0.0, 0.5]
    uncertain = combine(scores, "uncertainty", k=1.0)
    assert uncertain.argmax() == 2  # the candidate both scorers agree on wins
    with pytest.raises(ValueError, match="unknown combination rule"):
        combine(scores, "median")  # type: ignore[arg-type]


def test_rank_candidates_records_each_scorer():
    request = Request(TaskKind.GENERATE, language="python", instruction="x")
    good = Candidate("a", "def f():\n    return 1\n", "chat")
    twin = Candidate("b", "def f():\n    return 1\n", "chat")
    odd = Candidate("c", "def f():\n    return 2\n", "chat")
    ranked = rank_candidates([odd, good, twin], request, {"a": 0.5, "b": 0.5, "c": 0.5},
                             RankingConfig(listwise=False))
    assert ranked[-1] is odd
    assert set(ranked[0].scores) >= {"scorer.evidence", "vote", "agreement"}
    assert np.isclose(ranked[0].score, 0.75)


def test_listwise_weights_of_your_own_are_used_and_unreadable_ones_are_said(tmp_path):
    import json

    from codequorum.ranking.features import FEATURES
    from codequorum.ranking.listwise import ListwiseRanker

    request = Request(TaskKind.GENERATE, language="python", instruction="x")

    def candidates() -> list[Candidate]:
        return [Candidate("a", "def f():\n    return 1\n", "chat"), Candidate("b", "def f():\n    return 2\n", "chat")]

    mine = tmp_path / "mine.json"
    ranker = ListwiseRanker(np.zeros((len(FEATURES), 2), np.float32), np.zeros(2, np.float32),
                            np.zeros(2, np.float32), 7.0)
    mine.write_text(json.dumps(ranker.to_json()))
    ranked = rank_candidates(candidates(), request, {"a": 0.5, "b": 0.5}, RankingConfig(listwise_weights=mine))
    assert all(c.scores["scorer.listwise"] == 7.0 for c in ranked)

    notes: list[str] = []
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    ranked = rank_candidates(candidates(), request, {"a": 0.5, "b": 0.5}, RankingConfig(listwise_weights=broken),
                             notes.append)
    assert "scorer.listwise" not in ranked[0].scores and "could not be read" in notes[0]
