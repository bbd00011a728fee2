import pytest

from codequorum.bench.report import member_figures, oracle, pass_at_k
from codequorum.vocabulary.records import Record


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [(1, 1, 1, 1.0), (1, 0, 1, 0.0), (10, 3, 1, 0.3), (10, 3, 5, 1 - 21 / 252),
     (5, 0, 3, 0.0), (5, 4, 2, 1.0)],
)
def test_pass_at_k_matches_the_unbiased_estimator(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-6)


def test_pass_at_k_needs_enough_samples():
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def record(problem, member, passed, seconds=1.0):
    return Record(problem, member, "k1-t0", 0, "x", 10, seconds, 0.5, -0.1, passed=passed)


def test_member_figures_and_oracle():
    records = [record("p1", "a", True), record("p2", "a", False, 3.0),
               record("p1", "b", False), record("p2", "b", True)]
    rows = {r.member: r for r in member_figures(records)}
    assert rows["a"].pass_at_1 == 0.5 and rows["a"].compute_seconds_per_problem == 2.0
    assert oracle(records) == 1.0


def codex_estimator(n, c, k):
    """The numerically stable form from the Codex paper, as an independent reference."""
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


@pytest.mark.parametrize(("n", "c", "k"), [(200, 10, 100), (20, 7, 5), (50, 1, 10)])
def test_pass_at_k_agrees_with_the_codex_formula(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(codex_estimator(n, c, k), rel=1e-9)
