from fractions import Fraction

import pytest

from codequorum.ranking.settled import lead_probability, settled


@pytest.mark.parametrize(("leader", "runner_up", "expected"), [
    (0, 0, Fraction(1, 2)),    # no votes: a coin toss
    (3, 0, Fraction(15, 16)),  # P(Binomial(4, 1/2) <= 3)
    (4, 0, Fraction(31, 32)),
    (5, 1, Fraction(120, 128)),
    (2, 2, Fraction(1, 2)),
])
def test_lead_probability_is_the_exact_beta_posterior(leader, runner_up, expected):
    assert lead_probability(leader, runner_up) == pytest.approx(float(expected))


def test_lead_probability_matches_integrating_the_beta_posteriors():
    """P(p1 > p2) for p1 ~ Beta(v1+1, v2+1) in the two-way split, by a Riemann sum of its density."""
    v1, v2, steps = 6, 2, 200_000
    density = [((i + 0.5) / steps) ** v1 * (1 - (i + 0.5) / steps) ** v2 for i in range(steps)]
    above_half = sum(density[steps // 2:]) / sum(density)
    assert lead_probability(v1, v2) == pytest.approx(above_half, abs=1e-6)


def test_settled_needs_votes_and_confidence():
    assert not settled(0, 0, 0.6)
    assert not settled(3, 0, 0.95) and settled(4, 0, 0.95)
    assert not settled(5, 1, 0.95) and settled(6, 1, 0.95)
    assert not settled(8, 8, 0.95)
