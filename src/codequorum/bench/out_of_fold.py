"""Learned parts built out of fold, so that a suite the shipped ranker was trained on
(HumanEval) is still scored honestly: problems are dealt into folds, and for each fold a
listwise ranker is trained, and the `route` strategy's kNN memory built, from the other folds'
greedy candidates only; each problem is ranked and routed only by what never saw it. The
ranker needs the `ranker` extra (torch), the memory the `similarity` extra (the MiniLM
embedder); without them the replay ranks without the ranker and routes with the configured
memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codequorum.bench.collect import request_for
from codequorum.bench.problems import Problem
from codequorum.bench.replay import GREEDY
from codequorum.config import Settings
from codequorum.vocabulary.records import Record


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
                directory: Path, folds: int = 5, seed: int = 0,
                suite: Sequence[Problem] = ()) -> list[Fold]:
    """`problems` split into folds, each with a ranker trained on every other fold's greedy
    candidates (of all collected problems, not only these), written to `directory`, and, when
    `suite` (every problem of the collection) is given, a route memory built the same way."""
    from codequorum.ranking.train import examples_from_records, fold_assignment

    priors = {name: member.quality for name, member in settings.members.items()}
    examples = examples_from_records([r for r in records if r.setting == GREEDY], priors)
    fold_of = fold_assignment([e.problem for e in examples], folds, seed)
    directory.mkdir(parents=True, exist_ok=True)
    memories = _route_memories(records, suite, fold_of)
    result = []
    for fold in range(folds):
        held_out = [p for p in problems if fold_of.get(p.id) == fold]
        if not held_out:
            continue
        training = [e for e in examples if fold_of[e.problem] != fold]
        fold_settings = _ranking_with(settings, training, directory / f"ranker-fold-{fold}.json", seed)
        if memories is not None:
            memory = directory / f"route-fold-{fold}.jsonl"
            fold_settings = _routing_with(fold_settings, memories.without(fold), memory)
        result.append(Fold(fold_settings, held_out))
    unseen = [p for p in problems if p.id not in fold_of]  # nothing collected to train on
    if unseen:
        ranking = settings.ranking.model_copy(update={"listwise": False})
        result.append(Fold(settings.model_copy(update={"ranking": ranking}), unseen))
    return result


def _ranking_with(settings: Settings, training: list[Any], weights: Path, seed: int) -> Settings:
    """Ranked with a ranker trained on `training` (saved at `weights`), or without the ranker
    when there is too little to learn from."""
    from codequorum.ranking.train import train_listnet

    try:
        ranker = train_listnet(training, seed=seed)
    except ValueError:
        ranking = settings.ranking.model_copy(update={"listwise": False})
    else:
        weights.write_text(json.dumps(ranker.to_json()) + "\n")
        ranking = settings.ranking.model_copy(update={"listwise": True, "listwise_weights": weights})
    return settings.model_copy(update={"ranking": ranking})


@dataclass(frozen=True)
class _Memories:
    """Every collected problem's route memory entry, with its fold."""

    entries: list[Any]
    folds: list[int]

    def without(self, fold: int) -> list[Any]:
        return [e for e, f in zip(self.entries, self.folds, strict=True) if f != fold]


def _route_memories(records: Sequence[Record], suite: Sequence[Problem],
                    fold_of: dict[str, int]) -> _Memories | None:
    """Memory entries of the greedy outcomes, embedded once; None without the embedder."""
    if not suite:
        return None
    try:
        from codequorum.routing.embed import MiniLmEmbedder
        from codequorum.routing.memory import (
            Outcome,
            build_memory,
            entries_from_outcomes,
            request_text,
        )

        texts = {p.id: request_text(request_for(p, 384, None)) for p in suite if p.id in fold_of}
        outcomes = [Outcome(texts[r.problem], r.member, 1.0 if r.passed else 0.0, r.tokens or None)
                    for r in records if r.setting == GREEDY and r.problem in texts]
        entries = build_memory(entries_from_outcomes(outcomes), MiniLmEmbedder()).entries
    except ImportError:
        return None
    fold_by_text = {text: fold_of[problem] for problem, text in texts.items()}
    return _Memories(entries, [fold_by_text[e.text] for e in entries])


def _routing_with(settings: Settings, entries: list[Any], path: Path) -> Settings:
    from codequorum.routing.memory import RouterMemory

    RouterMemory(entries).save(path)
    route = {**settings.strategy_options("route"), "memory": str(path)}
    return settings.model_copy(update={"strategies": {**settings.strategies, "route": route}})
