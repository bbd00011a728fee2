"""CodeBERTScore agreement through the real `code-bert-score` package and the bundled MiniLM."""

import pytest

from codequorum.config import RankingConfig
from codequorum.ranking.codebertscore import BUNDLED_ENCODER, CodeBertScorer
from codequorum.ranking.scoring import rank_candidates
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request, TaskKind

pytestmark = pytest.mark.e2e

SAME_A = "def add(a, b):\n    return a + b\n"
SAME_B = "def add(x, y):\n    return x + y\n"
ODD = "import os\nprint(os.listdir('/'))\n"


def test_similar_code_agrees_more_than_unrelated_code():
    scorer = CodeBertScorer()
    agree = scorer.agreement([SAME_A, SAME_B, ODD])
    assert agree[0] > agree[2] and agree[1] > agree[2]
    assert scorer.encoder_name == BUNDLED_ENCODER


def test_codebertscore_is_a_scorer_in_the_ensemble_and_named_in_the_trace():
    request = Request(TaskKind.GENERATE, language="python", instruction="add")
    candidates = [Candidate("a", SAME_A, "chat"), Candidate("b", SAME_B, "chat"), Candidate("c", ODD, "chat")]
    events: list[str] = []
    ranked = rank_candidates(candidates, request, {}, RankingConfig(listwise=False, codebertscore=True),
                             events.append)
    assert ranked[-1].text == ODD
    assert all("scorer.codebertscore" in c.scores for c in ranked)
    assert any("all-MiniLM-L6-v2" in event for event in events)
