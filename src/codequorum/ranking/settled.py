"""When to stop sampling: the leading cluster is settled once more samples are unlikely to
overturn it.

Adaptive-Consistency (Aggarwal et al. 2023, "Let's Sample Step by Step") samples in small
batches and stops when the majority answer is confidently the majority of the model's answer
distribution. With v1 votes for the leader and v2 for the runner-up and a uniform prior, the
posterior probability that the leader's true rate is the higher one is P(p1 > p2) for
(p1, p2) ~ Beta(v1 + 1, v2 + 1) restricted to the two; for integer counts that is
P(Binomial(v1 + v2 + 1, 1/2) <= v1), computed exactly here.
"""

from __future__ import annotations

from math import comb


def lead_probability(leader_votes: int, runner_up_votes: int) -> float:
    """The posterior probability that the leader's rate beats the runner-up's."""
    trials = leader_votes + runner_up_votes + 1
    return sum(comb(trials, k) for k in range(leader_votes + 1)) / 2**trials


def settled(leader_votes: int, runner_up_votes: int, confidence: float) -> bool:
    """Whether a leader with these votes beats the runner-up with at least `confidence`;
    a leader without votes never does."""
    return leader_votes > 0 and lead_probability(leader_votes, runner_up_votes) >= confidence
