"""kNN routing maths (RouterBench, Hu et al. 2024; kNN routers): predicted quality from the
nearest past requests, traded against expected cost.

- The k nearest entries of the memory by cosine similarity (embeddings are L2-normalised).
- P(member) = the share of those neighbours the member got right, over the neighbours where
  the member was observed (a member never observed there has no prediction).
- Expected cost = price_per_1k_tokens × expected tokens / 1000, where the expected tokens are
  the member's mean on the neighbours (else the request's token cap). Costs are normalised by
  the dearest candidate member's, so they lie in [0, 1] whatever the price unit, and
  score = willingness_to_pay × P − normalised cost. `willingness_to_pay` is how much a
  certainly right answer is worth, counted in calls of the dearest member: 0 always picks the
  cheapest member, a large value the best predicted one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from codequorum.routing.memory import Entry


@dataclass(frozen=True)
class Neighbour:
    entry: Entry
    similarity: float


@dataclass(frozen=True)
class Prediction:
    """A member's predicted quality on the request, from `observed` neighbours."""

    member: str
    quality: float
    observed: int
    tokens: float | None  # mean tokens of its answers on the neighbours, when known


@dataclass(frozen=True)
class Choice:
    member: str
    quality: float
    cost: float  # in the members' price unit
    normalised_cost: float
    score: float


def nearest(query: np.ndarray, matrix: np.ndarray, entries: Sequence[Entry], k: int) -> list[Neighbour]:
    """The k entries most similar to the query (cosine of normalised vectors), most similar first."""
    if not len(entries):
        return []
    similarities = matrix @ np.asarray(query, dtype=np.float32)
    order = np.argsort(-similarities, kind="stable")[:k]
    return [Neighbour(entries[i], float(similarities[i])) for i in order]


def predict(neighbours: Sequence[Neighbour], members: Sequence[str]) -> dict[str, Prediction]:
    """P(member) = the share of the neighbours it got right, where it was observed."""
    predictions = {}
    for member in members:
        seen = [n.entry for n in neighbours if member in n.entry.outcomes]
        if not seen:
            continue
        tokens = [e.tokens[member] for e in seen if member in e.tokens]
        predictions[member] = Prediction(
            member=member,
            quality=sum(e.outcomes[member] for e in seen) / len(seen),
            observed=len(seen),
            tokens=sum(tokens) / len(tokens) if tokens else None,
        )
    return predictions


def trade_off(predictions: Mapping[str, Prediction], costs: Mapping[str, float],
              willingness_to_pay: float) -> list[Choice]:
    """Every predicted member scored λ × P − cost / dearest cost, best first (ties: cheaper)."""
    dearest = max((costs[m] for m in predictions), default=0.0)
    choices = []
    for member, prediction in predictions.items():
        normalised = costs[member] / dearest if dearest > 0 else 0.0
        score = willingness_to_pay * prediction.quality - normalised
        choices.append(Choice(member, prediction.quality, costs[member], normalised, score))
    return sorted(choices, key=lambda c: (-c.score, c.cost))


def expected_cost(price_per_1k_tokens: float, tokens: float) -> float:
    return price_per_1k_tokens * tokens / 1000.0
