"""Train the listwise ranker (ListNet loss, torch) on executed candidates, k-fold by problem.

A problem's candidates form one list; the label of a candidate is whether it passed the hidden
tests. Folds split problems, never candidates, so a problem is never scored by a model that saw
it. Needs the `ranker` extra (torch).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from codequorum.ranking.features import FEATURES, feature_matrix
from codequorum.ranking.listwise import ListwiseRanker
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.records import Record
from codequorum.vocabulary.request import Request, TaskKind


@dataclass(frozen=True)
class ListExample:
    problem: str
    features: np.ndarray  # (candidates, features)
    labels: np.ndarray  # (candidates,) 1.0 = passed the hidden tests
    members: tuple[str, ...]


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    problems: int
    ranker_top1: float
    random_top1: float
    strongest_top1: float
    oracle: float


def examples_from_records(records: Iterable[Record], priors: dict[str, float]) -> list[ListExample]:
    by_problem: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        if record.error is None and record.passed is not None:
            by_problem[record.problem].append(record)
    request = Request(TaskKind.GENERATE, language="python")
    examples = []
    for problem, rows in sorted(by_problem.items()):
        candidates = [_candidate(row) for row in rows]
        examples.append(ListExample(
            problem=problem,
            features=feature_matrix(candidates, request, priors),
            labels=np.asarray([float(bool(row.passed)) for row in rows], dtype=np.float32),
            members=tuple(row.member for row in rows),
        ))
    return examples


def _candidate(record: Record) -> Candidate:
    return Candidate(member=record.member, text=record.text, prompt_kind=record.prompt_kind,
                     tokens=record.tokens, mean_logprob=record.mean_logprob, evidence=record.evidence())


def train_listnet(
    examples: Sequence[ListExample], hidden: int = 16, epochs: int = 300, lr: float = 0.01,
    weight_decay: float = 1e-3, seed: int = 0,
) -> ListwiseRanker:
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(len(FEATURES), hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    lists = [(torch.from_numpy(e.features), torch.from_numpy(e.labels))
             for e in examples if 0 < e.labels.sum() < len(e.labels)]  # mixed lists only teach
    if not lists:
        raise ValueError("nothing to learn from: no problem has both passing and failing candidates")
    for _epoch in range(epochs):
        optimiser.zero_grad()
        loss = sum(_listnet_loss(model(x).squeeze(-1), y) for x, y in lists) / max(1, len(lists))
        loss.backward()  # type: ignore[union-attr]
        optimiser.step()
    first, last = model[0], model[2]
    return ListwiseRanker(
        hidden_w=first.weight.detach().numpy().T.copy(), hidden_b=first.bias.detach().numpy().copy(),
        out_w=last.weight.detach().numpy()[0].copy(), out_b=float(last.bias.detach()[0]),
    )


def _listnet_loss(scores, labels):  # type: ignore[no-untyped-def]
    import torch

    target = torch.softmax(labels * 10.0, dim=0)  # all passing candidates share the mass
    return -(target * torch.log_softmax(scores, dim=0)).sum()


def cross_validate(
    examples: Sequence[ListExample], priors: dict[str, float], folds: int = 5, seed: int = 0,
    **train_options: float,
) -> CrossValidation:
    fold_of = fold_assignment([e.problem for e in examples], folds, seed)
    hits = 0.0
    for fold in range(folds):
        held_out = {i for i, e in enumerate(examples) if fold_of[e.problem] == fold}
        ranker = train_listnet([e for i, e in enumerate(examples) if i not in held_out], seed=seed,
                               **train_options)  # type: ignore[arg-type]
        hits += sum(top1_correct(ranker.scores(examples[i].features), examples[i].labels) for i in held_out)
    count = len(examples) or 1
    return CrossValidation(
        folds=folds, problems=len(examples), ranker_top1=hits / count,
        random_top1=sum(float(e.labels.mean()) for e in examples) / count,
        strongest_top1=sum(_strongest_passes(e, priors) for e in examples) / count,
        oracle=sum(float(e.labels.max()) for e in examples) / count,
    )


def fold_assignment(problems: Sequence[str], folds: int, seed: int = 0) -> dict[str, int]:
    """Each problem's fold, 0 to folds - 1: a seeded shuffle dealt round-robin."""
    order = list(range(len(problems)))
    random.Random(seed).shuffle(order)
    return {problems[i]: position % folds for position, i in enumerate(order)}


def top1_correct(scores: np.ndarray, labels: np.ndarray) -> float:
    """1 when the ranked-first candidate passed; ties are split evenly (no lucky order)."""
    best = np.flatnonzero(scores == scores.max())
    return float(labels[best].mean())


def _strongest_passes(example: ListExample, priors: dict[str, float]) -> float:
    strongest = max(example.members, key=lambda m: priors.get(m, 0.0))
    picks = [label for label, member in zip(example.labels, example.members, strict=True) if member == strongest]
    return float(picks[0])
