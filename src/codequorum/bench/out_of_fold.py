"""Listwise rankers trained out of fold, so that a suite the shipped ranker was trained on
(HumanEval) is still scored honestly: problems are dealt into folds, one ranker is trained per
fold on the other folds' greedy candidates, and each problem is ranked only by the ranker that
never saw it. Needs the `ranker` extra (torch); without it the replay ranks without the ranker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codequorum.bench.problems import Problem
from codequorum.bench.replay import GREEDY
from codequorum.bench.store import Record
from codequorum.config import Settings


@dataclass(frozen=True)
class Fold:
    """The problems of one fold and the settings that rank them with that fold's ranker."""

    settings: Settings
    problems: list[Problem]


def trainable() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def out_of_fold(settings: Settings, records: Sequence[Record], problems: Sequence[Problem],
                directory: Path, folds: int = 5, seed: int = 0) -> list[Fold]:
    """`problems` split into folds, each with a ranker trained on every other fold's greedy
    candidates (of all collected problems, not only these), written to `directory`."""
    from codequorum.ranking.train import (
        examples_from_records,
        fold_assignment,
        train_listnet,
    )

    priors = {name: member.quality for name, member in settings.members.items()}
    examples = examples_from_records([r for r in records if r.setting == GREEDY], priors)
    fold_of = fold_assignment([e.problem for e in examples], folds, seed)
    directory.mkdir(parents=True, exist_ok=True)
    result = []
    for fold in range(folds):
        held_out = [p for p in problems if fold_of.get(p.id) == fold]
        if not held_out:
            continue
        ranker = train_listnet([e for e in examples if fold_of[e.problem] != fold], seed=seed)
        weights = directory / f"ranker-fold-{fold}.json"
        weights.write_text(json.dumps(ranker.to_json()) + "\n")
        ranking = settings.ranking.model_copy(update={"listwise": True, "listwise_weights": weights})
        result.append(Fold(settings.model_copy(update={"ranking": ranking}), held_out))
    unseen = [p for p in problems if p.id not in fold_of]  # nothing collected to train on
    if unseen:
        ranking = settings.ranking.model_copy(update={"listwise": False})
        result.append(Fold(settings.model_copy(update={"ranking": ranking}), unseen))
    return result
